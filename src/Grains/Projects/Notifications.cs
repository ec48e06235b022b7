using System.Text.Json;

namespace MediaActors.Grains.Projects;

/// <summary>A user's notification of finished or failed work, made from the event that announces it.</summary>
public sealed record Notification(string UserId, string SubjectKind, string Title, string Message);

/// <summary>Which events notify their owner, and what the notification says: projects, publish jobs and avatar videos that ended.</summary>
public static class Notifications
{
    public static Notification? For(OutboxEvent e)
    {
        var (subject, done) = e.Kind switch
        {
            "completed" => ("project", true),
            "failed" => ("project", false),
            "publish_completed" => ("publish_job", true),
            "publish_failed" => ("publish_job", false),
            "video_ready" => ("video", true),
            "video_failed" => ("video", false),
            _ => (null, false),
        };
        if (subject is null)
        {
            return null;
        }

        using var payload = JsonDocument.Parse(e.Payload);
        var root = payload.RootElement;
        var userId = Text(root, "userId");
        if (userId is null)
        {
            return null;
        }

        var title = Text(root, "title") is { Length: > 0 } t ? t : "Untitled";
        var error = Text(root, "error");
        var message = (subject, done) switch
        {
            ("project", true) => $"Project \"{title}\" is processed: transcript, analysis and content are ready.",
            ("project", false) => $"Project \"{title}\" failed: {error}",
            ("publish_job", true) => root.TryGetProperty("alreadyOnYouTube", out var already) && already.ValueKind == JsonValueKind.True
                ? $"\"{title}\" was already on YouTube ({Text(root, "videoId")}); it was not uploaded again."
                : $"\"{title}\" is published on YouTube ({Text(root, "videoId")}).",
            ("publish_job", false) => $"Publishing \"{title}\" to YouTube failed: {error}",
            ("video", true) => $"Avatar video \"{title}\" is ready.",
            _ => $"Avatar video \"{title}\" failed: {error}",
        };
        return new Notification(userId, subject, title.Length > 200 ? title[..200] : title, message.Length > 2000 ? message[..2000] : message);
    }

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
