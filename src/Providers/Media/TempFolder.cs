namespace MediaActors.Providers.Media;

/// <summary>A folder for one step's temporary files, deleted when the step ends, whatever happened.</summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder(string root, string name)
    {
        Path = System.IO.Path.Combine(root, name);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
