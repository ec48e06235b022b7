namespace MediaActors.Silo.Tests.OrleansSchema;

/// <summary>
/// The test assembly doubles as a silo executable (GenerateProgramFile is off): "silo &lt;settings json&gt;" hosts one
/// silo until stdin closes. The test host never calls this; SiloProcess starts it with "dotnet exec".
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args is ["silo", var settings])
        {
            return await SiloProcess.RunAsync(settings);
        }

        await Console.Error.WriteLineAsync("usage: MediaActors.Silo.Tests silo <settings json>");
        return 2;
    }
}
