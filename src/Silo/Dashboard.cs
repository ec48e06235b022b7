using System.Net;
using System.Text;
using MediaActors.Runtime;

namespace MediaActors.Silo;

/// <summary>The silo's dashboard: silos, grains, mailboxes, work queue, reminders, recent failures and this silo's throughput.</summary>
public static class Dashboard
{
    public static WebApplication MapDashboard(this WebApplication app)
    {
        app.MapGet("/dashboard.json", async (RuntimeStatus status, RuntimeMetrics metrics, SiloIdentity silo, CancellationToken ct) =>
            Results.Json(new { silo = silo.Id, messagesProcessed = metrics.MessagesTotal, workCompleted = metrics.WorkTotal, workFailed = metrics.WorkFailures, cluster = await status.ReadAsync(ct) }));
        app.MapGet("/", async (RuntimeStatus status, RuntimeMetrics metrics, SiloIdentity silo, CancellationToken ct) =>
            Results.Content(Render(await status.ReadAsync(ct), metrics, silo), "text/html; charset=utf-8"));
        return app;
    }

    private static string Render(ClusterStatus status, RuntimeMetrics metrics, SiloIdentity silo)
    {
        var html = new StringBuilder();
        html.Append("""
            <!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="2"><title>MediaActors silo</title>
            <style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}h2{margin-bottom:.3em}</style>
            </head><body>
            """);
        html.Append($"<h1>MediaActors silo {E(silo.Id)}</h1><p>Messages processed here: {metrics.MessagesTotal} · work items: {metrics.WorkTotal} ({metrics.WorkFailures} not succeeded) · mailbox depth: {metrics.MailboxDepth}</p>");
        Table(html, "Silos", ["id", "name", "host", "pid", "status", "started", "heartbeat"],
            status.Silos.Select(s => new object[] { s.Id, s.Name, s.Host, s.Pid, s.Status, s.StartedAt, s.HeartbeatAt }));
        Table(html, "Grains by type", ["type", "grains"], status.GrainsByType.Select(r => new object[] { r.Name, r.Count }));
        Table(html, "Mailboxes by type", ["type", "pending messages"], status.MailboxByType.Select(r => new object[] { r.Name, r.Count }));
        Table(html, "Work queue", ["kind", "status", "items", "avg seconds"],
            status.WorkByKind.Select(w => new object[] { w.Kind, w.Status, w.Count, w.AverageSeconds is { } s ? s.ToString("0.00") : "" }));
        html.Append($"<h2>Reminders</h2><p>{status.RemindersDue} due of {status.RemindersTotal}</p>");
        Table(html, "Recent failures", ["at", "source", "subject", "error"],
            status.RecentFailures.Select(f => new object[] { f.At, f.Source, f.Subject, f.Error }));
        return html.Append("</body></html>").ToString();
    }

    private static void Table(StringBuilder html, string title, string[] headers, IEnumerable<object[]> rows)
    {
        html.Append($"<h2>{E(title)}</h2><table><tr>");
        foreach (var header in headers)
        {
            html.Append($"<th>{E(header)}</th>");
        }

        html.Append("</tr>");
        foreach (var row in rows)
        {
            html.Append("<tr>");
            foreach (var cell in row)
            {
                html.Append($"<td>{E(Convert.ToString(cell, System.Globalization.CultureInfo.InvariantCulture) ?? "")}</td>");
            }

            html.Append("</tr>");
        }

        html.Append("</table>");
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
