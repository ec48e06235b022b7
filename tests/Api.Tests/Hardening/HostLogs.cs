using System.Reflection;
using System.Text.RegularExpressions;
using MediaActors.Api.Tests.EndToEnd;

namespace MediaActors.Api.Tests.Hardening;

/// <summary>
/// Reads the API host's console output to find the exception behind a 5xx. <see cref="HostProcess.Output"/> only keeps
/// the last 200 lines, and <see cref="PipelineCluster"/> does not expose its API hosts, so this reads their private fields
/// (read-only, for diagnostics), falling back to <see cref="HostProcess.Output"/> if they change.
/// The fuzz cluster runs with Logging:Console:IncludeScopes, so every log entry of a request carries its TraceId and
/// RequestPath, and the traceId in a problem+json answer leads to the exception that caused it.
/// </summary>
public static partial class HostLogs
{
    public static HostProcess? Api(PipelineCluster cluster) =>
        typeof(PipelineCluster).GetField("_apis", BindingFlags.NonPublic | BindingFlags.Instance)?.GetValue(cluster) is List<HostProcess> { Count: > 0 } apis
            ? apis[0]
            : null;

    public static string[] Lines(HostProcess host)
    {
        if (typeof(HostProcess).GetField("_lines", BindingFlags.NonPublic | BindingFlags.Instance)?.GetValue(host) is List<string> lines)
        {
            lock (lines)
            {
                return [.. lines];
            }
        }

        return host.Output.Split('\n');
    }

    /// <summary>The log entries (header line plus its indented lines) at level fail or crit from line <paramref name="from"/> on.</summary>
    public static List<string> Errors(string[] lines, int from)
    {
        var entries = new List<string>();
        for (var i = Math.Max(0, from); i < lines.Length; i++)
        {
            if (lines[i].StartsWith("fail:", StringComparison.Ordinal) || lines[i].StartsWith("crit:", StringComparison.Ordinal))
            {
                entries.Add(Entry(lines, i));
            }
        }

        return entries;
    }

    /// <summary>The error entry that mentions the trace id of a problem+json answer, or null.</summary>
    public static string? ForTrace(string[] lines, string responseBody)
    {
        var match = TraceIdPattern().Match(responseBody);
        if (!match.Success)
        {
            return null;
        }

        var value = match.Groups[1].Value;
        var needle = value.StartsWith("00-", StringComparison.Ordinal) && value.Length >= 35 ? "TraceId:" + value[3..35] : "RequestId:" + value;
        for (var i = 0; i < lines.Length; i++)
        {
            if (!lines[i].Contains(needle, StringComparison.Ordinal))
            {
                continue;
            }

            // Back to the entry's header line.
            var start = i;
            while (start > 0 && lines[start].StartsWith(' '))
            {
                start--;
            }

            if (lines[start].StartsWith("fail:", StringComparison.Ordinal) || lines[start].StartsWith("crit:", StringComparison.Ordinal))
            {
                return Entry(lines, start);
            }
        }

        return null;
    }

    /// <summary>"ExceptionType: message | at first frame in MediaActors (or the first frame)" of a log entry.</summary>
    public static string Signature(string entry)
    {
        var lines = entry.Split('\n').Select(l => l.Trim()).ToList();
        var exception = lines.FirstOrDefault(l => ExceptionLinePattern().IsMatch(l)) ?? lines.Skip(1).LastOrDefault(l => !l.StartsWith("=>", StringComparison.Ordinal)) ?? lines[0];
        var frame = lines.FirstOrDefault(l => l.StartsWith("at MediaActors.", StringComparison.Ordinal))
            ?? lines.FirstOrDefault(l => l.StartsWith("at Microsoft.AspNetCore.", StringComparison.Ordinal))
            ?? lines.FirstOrDefault(l => l.StartsWith("at ", StringComparison.Ordinal)) ?? "";
        return frame.Length > 0 ? $"{exception} | {frame}" : exception;
    }

    /// <summary>The exception lines of a log entry (with inner exceptions) and its frames in MediaActors (or the first ASP.NET Core frame).</summary>
    public static IEnumerable<string> Essentials(string entry)
    {
        var lines = entry.Split('\n').Select(l => l.Trim()).ToList();
        var exceptions = lines.Where(l => ExceptionLinePattern().IsMatch(l.TrimStart('-', '>', ' '))).ToList();
        var frames = lines.Where(l => l.StartsWith("at MediaActors.", StringComparison.Ordinal)).Distinct().Take(4).ToList();
        if (frames.Count == 0)
        {
            frames = lines.Where(l => l.StartsWith("at Microsoft.AspNetCore.", StringComparison.Ordinal)).Distinct().Take(2).ToList();
        }

        return exceptions.Concat(frames).Select(l => l.Length > 300 ? l[..300] + "..." : l);
    }

    /// <summary>A signature with quoted values elided ("charset 'x'" -> "charset '...'"), to group failures with one cause.</summary>
    public static string Normalize(string signature) => QuotedPattern().Replace(signature, "'...'");

    private static string Entry(string[] lines, int start)
    {
        var end = start + 1;
        while (end < lines.Length && lines[end].StartsWith(' '))
        {
            end++;
        }

        return string.Join('\n', lines[start..Math.Min(end, start + 60)]);
    }

    [GeneratedRegex("'[^']*'")]
    private static partial Regex QuotedPattern();

    [GeneratedRegex("\"traceId\"\\s*:\\s*\"([^\"]+)\"")]
    private static partial Regex TraceIdPattern();

    [GeneratedRegex(@"^[A-Za-z_][\w.`]*(Exception|Error)\b.*")]
    private static partial Regex ExceptionLinePattern();
}
