using System.Text.Json;
using MediaActors.Api.Auth;
using MediaActors.Api.Projects;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Npgsql;

namespace MediaActors.Api.Realtime;

/// <summary>
/// One event as clients receive it: its stream (a project's id, or a publish job's: their kinds start with "publish_"),
/// the stream's sequence number, the kind and its data.
/// </summary>
public sealed record ProjectEventMessage(string ProjectId, long Seq, string Kind, JsonElement Data, DateTimeOffset At);

/// <summary>
/// Live events of projects and publish jobs. A connection receives every event of its user's projects and jobs, or, when
/// it connects with ?project={id} or calls SubscribeProject (with a project's or a job's id), only those it subscribed
/// to. Events arrive in order per project or job.
/// </summary>
[Authorize]
public sealed class ProjectHub(NpgsqlDataSource db) : Hub
{
    public const string Path = "/hubs/projects";
    public const string EventMethod = "projectEvent";
    private const string ModeKey = "mode";

    public static string UserGroup(string userId) => $"user:{userId}";

    public static string ProjectGroup(Guid projectId) => $"project:{projectId}";

    public override async Task OnConnectedAsync()
    {
        var only = Context.GetHttpContext()?.Request.Query["project"].ToString();
        if (!string.IsNullOrEmpty(only))
        {
            await SubscribeProject(only);
            return;
        }

        await Groups.AddToGroupAsync(Context.ConnectionId, UserGroup(Context.User!.UserId()));
    }

    /// <summary>From now on this connection receives only the projects it subscribed to (this one among them).</summary>
    public async Task SubscribeProject(string projectId)
    {
        var id = await OwnedProjectAsync(projectId);
        if (!Context.Items.ContainsKey(ModeKey))
        {
            Context.Items[ModeKey] = "projects";
            await Groups.RemoveFromGroupAsync(Context.ConnectionId, UserGroup(Context.User!.UserId()));
        }

        await Groups.AddToGroupAsync(Context.ConnectionId, ProjectGroup(id));
    }

    public async Task UnsubscribeProject(string projectId)
    {
        if (Guid.TryParse(projectId, out var id))
        {
            await Groups.RemoveFromGroupAsync(Context.ConnectionId, ProjectGroup(id));
        }
    }

    /// <summary>The events of one project after sequence number <paramref name="after"/> (what a reconnecting client missed).</summary>
    public async Task<IReadOnlyList<ProjectEventMessage>> GetEvents(string projectId, long after) =>
        await ProjectEvents.ReadAsync(Context.GetHttpContext()!.RequestServices, await OwnedProjectAsync(projectId), after, 500, Context.ConnectionAborted);

    private async Task<Guid> OwnedProjectAsync(string projectId)
    {
        // Another user's project and a project that does not exist look the same.
        if (!Guid.TryParse(projectId, out var id) || !await ProjectEvents.IsOwnerOfAnyAsync(db, id, Context.User!.UserId(), Context.ConnectionAborted))
        {
            throw new HubException("Project, publish job or video not found.");
        }

        return id;
    }
}
