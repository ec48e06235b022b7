namespace MediaActors.Providers.Storage;

/// <summary>Safe names for blob paths and logs.</summary>
public static class SafeNames
{
    /// <summary>Letters, digits, dot, dash and underscore only; no leading dots; at most <paramref name="max"/> characters.</summary>
    public static string ForPath(string value, int max = 100)
    {
        var chars = value.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_').ToArray();
        var safe = new string(chars).TrimStart('.');
        if (safe.Length > max)
        {
            var extension = Path.GetExtension(safe);
            safe = safe[..(max - Math.Min(extension.Length, 10))] + (extension.Length <= 10 ? extension : "");
        }

        return safe.Length == 0 ? "file" : safe;
    }
}
