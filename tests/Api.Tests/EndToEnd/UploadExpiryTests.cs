using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Storage.Blobs;

namespace MediaActors.Api.Tests.EndToEnd;

/// <summary>Uploads that are never completed expire: blob deleted, row 'expired', a waiting project failed, 410 afterwards.</summary>
public sealed class UploadExpiryTests : IAsyncLifetime
{
    private PipelineCluster _cluster = null!;
    private string _media = null!;

    public async Task InitializeAsync()
    {
        _cluster = await PipelineCluster.StartAsync(configure: settings =>
        {
            // A pending upload expires as soon as its URL has (no grace), swept twice a second. URLs keep their default
            // lifetime: the test moves an upload's expiry into the past itself, so no step races a short-lived URL.
            settings["Uploads:PendingGrace"] = "00:00:00";
            settings["Uploads:ExpirySweepInterval"] = "00:00:00.500";
        });
        _media = Directory.CreateTempSubdirectory("ma-expiry-").FullName;
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        Directory.Delete(_media, recursive: true);
    }

    [Fact]
    public async Task An_upload_never_completed_expires_its_blob_is_deleted_and_its_waiting_project_fails()
    {
        var video = await TestMedia.SilentVideoAsync(_media);
        var junk = Path.Combine(_media, "b.mp4");
        await File.WriteAllBytesAsync(junk, new byte[40_000]);
        // A: a project waits for it. B: the file was committed to blob storage but complete was never called. C: untouched.
        var a = await CreateUploadAsync("a.mp4");
        var project = await _cluster.CreateProjectAsync(new { title = "Waiting", uploadId = a.Id });
        var projectId = project.GetProperty("id").GetString()!;
        Assert.Equal("uploading", project.GetProperty("status").GetString());
        var b = await CreateUploadAsync("b.mp4");
        await PipelineCluster.PutBlocksAsync(b.Url, junk, 16 * 1024);
        var c = await CreateUploadAsync("c.mp4");
        // D: completed normally, so never expired.
        var (completed, d) = await _cluster.UploadAsync(video);
        Assert.Equal(HttpStatusCode.OK, completed.StatusCode);
        var blobName = await _cluster.Database.ScalarAsync<string>("SELECT blob_name FROM uploads WHERE id = $1", b.Id);
        var blob = new BlobContainerClient(PipelineCluster.Blobs, "uploads").GetBlobClient(blobName);
        Assert.True((await blob.ExistsAsync()).Value);
        var ids = new[] { a.Id, b.Id, c.Id, Guid.Parse(d.GetProperty("uploadId").GetString()!) };
        Assert.Equal(["completed", "pending", "pending", "pending"],
            await _cluster.Database.ScalarAsync<string[]>("SELECT array_agg(status ORDER BY status) FROM uploads WHERE id = ANY($1)", ids));

        // Their URLs run out (the completed one's too, which must not matter to it).
        Assert.Equal(4L, await _cluster.Database.ScalarAsync<long>(
            "WITH moved AS (UPDATE uploads SET expires_at = now() - interval '1 second' WHERE id = ANY($1) RETURNING 1) SELECT count(*) FROM moved", ids));
        var failed = await _cluster.WaitForStatusAsync(projectId, "failed", TimeSpan.FromSeconds(60));

        Assert.StartsWith("The upload was not completed before it expired", failed.GetProperty("error").GetString());
        string[] statuses = [];
        for (var deadline = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < deadline; await Task.Delay(250))
        {
            statuses = await _cluster.Database.ScalarAsync<string[]>("SELECT array_agg(status ORDER BY status) FROM uploads WHERE id = ANY($1)", ids);
            if (!statuses.Contains("pending"))
            {
                break;
            }
        }

        Assert.Equal(["completed", "expired", "expired", "expired"], statuses);
        Assert.False((await blob.ExistsAsync()).Value);

        // Completing it late, or starting a project on an expired upload, says what happened.
        using var late = await _cluster.Http.PostAsync($"/api/uploads/{b.Id}/complete", null);
        await AssertGoneAsync(late);
        using var onExpired = await _cluster.Http.PostAsJsonAsync("/api/projects", new { uploadId = c.Id });
        await AssertGoneAsync(onExpired);
        Assert.Equal(0L, await _cluster.Database.ScalarAsync<long>("SELECT count(*) FROM projects WHERE id <> $1", Guid.Parse(projectId)));
        using var retry = await _cluster.Http.PostAsync($"/api/projects/{projectId}/retry", null);
        await AssertGoneAsync(retry);
        Assert.Equal("failed", (await _cluster.GetProjectAsync(projectId)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_project_cancelled_while_its_upload_runs_is_retried_only_once_the_upload_is_complete()
    {
        var video = await TestMedia.SilentVideoAsync(_media);
        var upload = await CreateUploadAsync("silent.mp4");
        await PipelineCluster.PutBlocksAsync(upload.Url, video, 256 * 1024);
        var project = await _cluster.CreateProjectAsync(new { uploadId = upload.Id });
        var projectId = project.GetProperty("id").GetString()!;
        using (var cancel = await _cluster.Http.PostAsync($"/api/projects/{projectId}/cancel", null))
        {
            Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        }

        using (var early = await _cluster.Http.PostAsync($"/api/projects/{projectId}/retry", null))
        {
            Assert.Equal(HttpStatusCode.Conflict, early.StatusCode);
            var problem = await early.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal($"The project's upload is not complete yet: upload the file, call POST /api/uploads/{upload.Id}/complete, then retry.",
                problem.GetProperty("detail").GetString());
        }

        Assert.Equal("cancelled", (await _cluster.GetProjectAsync(projectId)).GetProperty("status").GetString());
        using (var complete = await _cluster.Http.PostAsync($"/api/uploads/{upload.Id}/complete", null))
        {
            Assert.Equal(HttpStatusCode.OK, complete.StatusCode);
        }

        using var retry = await _cluster.Http.PostAsync($"/api/projects/{projectId}/retry", null);

        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        // It gets past the download (the upload is found) and fails later for its own reason: the clip has no audio.
        var failed = await _cluster.WaitForStatusAsync(projectId, "failed", TimeSpan.FromMinutes(2));
        Assert.Equal("The video has no audio track, so there is nothing to transcribe.", failed.GetProperty("error").GetString());
        Assert.Equal("completed", failed.GetProperty("steps").EnumerateArray().Single(step => step.GetProperty("name").GetString() == "downloading")
            .GetProperty("status").GetString());
    }

    private async Task<(Guid Id, string Url)> CreateUploadAsync(string fileName)
    {
        var body = await _cluster.CreateUploadAsync(fileName, 40_000);
        return (Guid.Parse(body.GetProperty("uploadId").GetString()!), body.GetProperty("uploadUrl").GetString()!);
    }

    private static async Task AssertGoneAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Gone, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.StartsWith("This upload expired before it was completed", problem.GetProperty("detail").GetString());
    }
}
