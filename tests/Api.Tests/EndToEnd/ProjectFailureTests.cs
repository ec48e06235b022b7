using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace MediaActors.Api.Tests.EndToEnd;

/// <summary>Bad input ends with a clear error and changes nothing else; cancel and retry work.</summary>
public sealed class ProjectFailureTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromMinutes(3);
    private PipelineCluster _cluster = null!;
    private string _media = null!;

    public async Task InitializeAsync()
    {
        _cluster = await PipelineCluster.StartAsync(configure: s =>
        {
            s["Projects:MaxStepAttempts"] = "2";
            s["Uploads:MaxBytes"] = "5000000";
        });
        _media = Directory.CreateTempSubdirectory("ma-media-").FullName;
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        Directory.Delete(_media, recursive: true);
    }

    [Fact]
    public async Task A_text_file_renamed_mp4_is_refused_at_completion_and_removed()
    {
        var fake = Path.Combine(_media, "notes.mp4");
        await File.WriteAllTextAsync(fake, string.Concat(Enumerable.Repeat("these are my notes, not a video\n", 200)));
        var (complete, upload) = await _cluster.UploadAsync(fake);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, complete.StatusCode);
        Assert.Equal("application/problem+json", complete.Content.Headers.ContentType?.MediaType);
        Assert.Contains("not a readable media file", upload.GetProperty("detail").GetString());
        Assert.Equal("pending", await _cluster.Database.ScalarAsync<string>("SELECT status FROM uploads WHERE id = $1", Guid.Parse(upload.GetProperty("uploadId").GetString()!)));
        Assert.Equal(0L, await _cluster.Database.ScalarAsync<long>("SELECT count(*) FROM projects"));
    }

    [Fact]
    public async Task A_corrupt_video_is_refused_at_completion()
    {
        var good = await TestMedia.SpokenVideoAsync(_media);
        var bytes = await File.ReadAllBytesAsync(good);
        var corrupt = Path.Combine(_media, "corrupt.mp4");
        // Keep the first bytes (a plausible header), replace the rest with noise.
        new Random(7).NextBytes(bytes.AsSpan(64));
        await File.WriteAllBytesAsync(corrupt, bytes);
        var (complete, _) = await _cluster.UploadAsync(corrupt);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, complete.StatusCode);
    }

    [Fact]
    public async Task An_oversize_upload_is_refused_before_anything_is_stored()
    {
        var response = await _cluster.Http.PostAsJsonAsync("/api/uploads", new { fileName = "big.mp4", contentType = "video/mp4", sizeBytes = 6_000_000 });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("limit is 5000000 bytes", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        Assert.Equal(0L, await _cluster.Database.ScalarAsync<long>("SELECT count(*) FROM uploads"));
    }

    [Fact]
    public async Task A_video_without_audio_fails_with_a_clear_message()
    {
        var (complete, upload) = await _cluster.UploadAsync(await TestMedia.SilentVideoAsync(_media));
        Assert.Equal(HttpStatusCode.OK, complete.StatusCode);
        var created = await _cluster.CreateProjectAsync(new { uploadId = upload.GetProperty("uploadId").GetString() });
        var project = await _cluster.WaitForStatusAsync(created.GetProperty("id").GetString()!, "failed", Wait);

        Assert.Equal("The video has no audio track, so there is nothing to transcribe.", project.GetProperty("error").GetString());
        var step = project.GetProperty("steps").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "extracting_audio");
        Assert.Equal("failed", step.GetProperty("status").GetString());
        Assert.Equal(1, step.GetProperty("attempts").GetInt32());
        Assert.Equal(0L, await _cluster.Database.ScalarAsync<long>("SELECT count(*) FROM transcripts"));
    }

    [Fact]
    public async Task An_unreachable_url_is_retried_then_fails()
    {
        // Port 9 (discard): nothing listens there, and no other test's server can start there.
        var created = await _cluster.CreateProjectAsync(new { url = "http://127.0.0.1:9/gone.mp4" });
        var project = await _cluster.WaitForStatusAsync(created.GetProperty("id").GetString()!, "failed", Wait);
        var step = project.GetProperty("steps").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "downloading");
        Assert.Equal(2, step.GetProperty("attempts").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(project.GetProperty("error").GetString()));
    }

    [Theory]
    [InlineData("ftp://example.com/video.mp4")]
    [InlineData("not a url")]
    [InlineData("http://user:secret@example.com/video.mp4")]
    public async Task Invalid_urls_are_refused_and_no_project_is_created(string url)
    {
        var response = await _cluster.Http.PostAsJsonAsync("/api/projects", new { url });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0L, await _cluster.Database.ScalarAsync<long>("SELECT count(*) FROM projects"));
    }

    [Fact]
    public async Task Google_endpoints_without_a_configured_client_say_how_to_configure_one()
    {
        foreach (var request in new[]
        {
            new HttpRequestMessage(HttpMethod.Get, "/api/google"),
            new HttpRequestMessage(HttpMethod.Get, "/api/google/connect"),
            new HttpRequestMessage(HttpMethod.Delete, "/api/google"),
            new HttpRequestMessage(HttpMethod.Get, "/api/google/callback?state=s&code=c"),
            new HttpRequestMessage(HttpMethod.Post, "/api/publish") { Content = JsonContent.Create(new { source = new { uploadId = Guid.NewGuid() } }) },
            new HttpRequestMessage(HttpMethod.Get, "/api/publish"),
            new HttpRequestMessage(HttpMethod.Get, "/api/publish/quota"),
            new HttpRequestMessage(HttpMethod.Get, "/api/publish/history"),
            new HttpRequestMessage(HttpMethod.Get, $"/api/publish/{Guid.NewGuid()}"),
            new HttpRequestMessage(HttpMethod.Post, $"/api/publish/{Guid.NewGuid()}/retry"),
        })
        {
            using var response = await _cluster.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("Google__ClientId", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Avatar_video_endpoints_without_a_configured_generator_say_how_to_configure_one()
    {
        foreach (var request in new[]
        {
            new HttpRequestMessage(HttpMethod.Post, "/api/videos") { Content = JsonContent.Create(new { prompt = "x" }) },
            new HttpRequestMessage(HttpMethod.Post, "/api/videos/generate") { Content = JsonContent.Create(new { title = "x" }) },
            new HttpRequestMessage(HttpMethod.Post, "/api/webhooks/video-complete") { Content = JsonContent.Create(new { videoId = Guid.NewGuid() }) },
            new HttpRequestMessage(HttpMethod.Post, "/api/webhooks/workflow-error") { Content = JsonContent.Create(new { videoId = Guid.NewGuid() }) },
        })
        {
            using var response = await _cluster.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("Avatar__GeneratorUrl", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // The catalog is there all the same.
        Assert.Equal(HttpStatusCode.OK, (await _cluster.Http.GetAsync("/api/videos/voices")).StatusCode);
    }

    [Fact]
    public async Task Requests_without_a_valid_key_are_refused_and_other_users_see_404()
    {
        using var anonymous = new HttpClient { BaseAddress = _cluster.Http.BaseAddress };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/projects")).StatusCode);
        anonymous.DefaultRequestHeaders.Add("X-Api-Key", "ma_wrongwrongwrongwrongwrong");
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/projects")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _cluster.Http.GetAsync($"/api/projects/{Guid.NewGuid()}")).StatusCode);
    }

    [Fact]
    public async Task Cancel_during_transcription_stops_the_step_and_retry_resumes_from_it()
    {
        // About 40 s of speech keeps pocketsphinx busy long enough to cancel it mid-way.
        var text = string.Join(" ", Enumerable.Repeat(TestMedia.Speech, 4));
        var (_, upload) = await _cluster.UploadAsync(await TestMedia.SpokenVideoAsync(_media, "long.mp4", text));
        var created = await _cluster.CreateProjectAsync(new { uploadId = upload.GetProperty("uploadId").GetString() });
        var id = created.GetProperty("id").GetString()!;
        await _cluster.WaitForAsync(id, p => p.GetProperty("step").GetString() == "transcribing", Wait);
        // The step is recorded as running when its attempt is written; cancel once the silo actually runs it.
        var silo = _cluster.Silos[0];
        var started = await PollAsync(() => Task.FromResult(silo.Output.Contains($"Step Transcribing of project {id} started", StringComparison.Ordinal)),
            done => done, TimeSpan.FromSeconds(30));
        Assert.True(started, $"The silo did not start transcribing\n{silo.Output}");

        var cancelled = await _cluster.Http.PostAsync($"/api/projects/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        var project = await _cluster.WaitForStatusAsync(id, "cancelled", Wait);
        var transcribing = project.GetProperty("steps").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "transcribing");
        Assert.Equal("cancelled", transcribing.GetProperty("status").GetString());

        // The cancel reaches the running step (its next heartbeat is refused): the step stops and removes its temporary files.
        var stopped = $"Step Transcribing of project {id} stopped (cancelled or superseded)";
        var stepStopped = await PollAsync(() => Task.FromResult(silo.Output.Contains(stopped, StringComparison.Ordinal) && _cluster.TempEntries().Length == 0),
            done => done, TimeSpan.FromSeconds(150));
        Assert.True(stepStopped, $"The transcription did not stop (temporary files left: {string.Join(", ", _cluster.TempEntries())})\n{silo.Output}");
        Assert.DoesNotContain($"Step Transcribing of project {id} succeeded", silo.Output, StringComparison.Ordinal);
        Assert.Equal(0L, await _cluster.Database.ScalarAsync<long>("SELECT count(*) FROM transcripts"));
        Assert.Equal("cancelled", (await _cluster.GetProjectAsync(id)).GetProperty("status").GetString());

        // Retry resumes at transcribing: the steps before it are not run again.
        Assert.Equal(HttpStatusCode.OK, (await _cluster.Http.PostAsync($"/api/projects/{id}/retry", null)).StatusCode);
        project = await _cluster.WaitForStatusAsync(id, "completed", Wait);
        var attempts = project.GetProperty("steps").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!, s => s.GetProperty("attempts").GetInt32());
        Assert.Equal(1, attempts["downloading"]);
        // One media attempt: extracting the audio and uploading it ran once.
        Assert.Equal(1, attempts["extracting_audio"]);
        Assert.Equal(1, attempts["uploading"]);
        // The retry counts the step's tries afresh.
        Assert.Equal(1, attempts["transcribing"]);

        // A completed project cannot be retried.
        Assert.Equal(HttpStatusCode.Conflict, (await _cluster.Http.PostAsync($"/api/projects/{id}/retry", null)).StatusCode);

        // The media step stored the WAV extract and the thumbnail; no compressed copy, which only a transcriber that uploads
        // audio (OpenAI's) reads.
        var blobs = new Providers.Storage.BlobStore(PipelineCluster.Blobs);
        Assert.NotNull(await blobs.GetInfoAsync(Providers.Storage.Containers.Audio, $"dev/{id}/audio.wav"));
        Assert.NotNull(await blobs.GetInfoAsync(Providers.Storage.Containers.Thumbnails, $"dev/{id}/thumbnail.jpg"));
        Assert.Null(await blobs.GetInfoAsync(Providers.Storage.Containers.Audio, $"dev/{id}/audio.mp3"));

        // Delete removes its rows and its blobs.
        Assert.Equal(HttpStatusCode.NoContent, (await _cluster.Http.DeleteAsync($"/api/projects/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _cluster.Http.GetAsync($"/api/projects/{id}")).StatusCode);
        Assert.Equal(0L, await _cluster.Database.ScalarAsync<long>("SELECT count(*) FROM projects"));
        Assert.Equal(0L, await _cluster.Database.ScalarAsync<long>("SELECT count(*) FROM transcripts"));
        Assert.Equal(0L, await _cluster.Database.ScalarAsync<long>("SELECT count(*) FROM transcript_chunks"));
        var names = new[]
        {
            (Providers.Storage.Containers.Audio, $"dev/{id}/audio.wav"),
            (Providers.Storage.Containers.Audio, $"dev/{id}/audio.mp3"),
            (Providers.Storage.Containers.Thumbnails, $"dev/{id}/thumbnail.jpg"),
        };
        var left = await PollAsync(async () =>
        {
            var found = new List<string>();
            foreach (var (container, name) in names)
            {
                if (await blobs.GetInfoAsync(container, name) is not null)
                {
                    found.Add($"{container}/{name}");
                }
            }

            return found;
        }, found => found.Count == 0);
        Assert.True(left.Count == 0, $"Blobs left after the delete: {string.Join(", ", left)}\n{silo.Output}");
    }

    private static async Task<T> PollAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan? timeout = null)
    {
        // Local transcription stops between chunks, so a cancel can take one chunk's decoding time on a loaded machine.
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        T value;
        do
        {
            value = await read();
            if (done(value))
            {
                return value;
            }

            await Task.Delay(200);
        }
        while (DateTime.UtcNow < deadline);

        return value;
    }
}
