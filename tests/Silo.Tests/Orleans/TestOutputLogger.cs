using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace MediaActors.Silo.Tests.OrleansSchema;

/// <summary>Sends host logs (warnings and up, as configured by the host) to the current test's output.</summary>
public sealed class TestOutputLoggerProvider(ITestOutputHelper output, string source) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new Logger(output, source, categoryName);

    public void Dispose()
    {
    }

    /// <summary>A line to the test output; dropped once the test has finished (xunit refuses writes then).</summary>
    public static void Write(ITestOutputHelper output, string line)
    {
        try
        {
            output.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
        }
    }

    private sealed class Logger(ITestOutputHelper output, string source, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var line = $"{DateTime.UtcNow:HH:mm:ss.fff} [{source}] {logLevel} {category}: {formatter(state, exception)}";
            Write(output, exception is null ? line : $"{line}{Environment.NewLine}{exception}");
        }
    }
}
