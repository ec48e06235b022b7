using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace MediaActors.Api.Tests.EndToEnd;

/// <summary>Flows 1-3 end to end: real silo and API processes, PostgreSQL, Azurite, ffmpeg, pocketsphinx, over HTTP.</summary>
public sealed class ProjectPipelineTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromMinutes(3);
    private PipelineCluster _cluster = null!;
    private string _media = null!;

    public async Task InitializeAsync()
    {
        _cluster = await PipelineCluster.StartAsync();
        _media = Directory.CreateTempSubdirectory("ma-media-").FullName;
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        Directory.Delete(_media, recursive: true);
    }

    [Fact]
    public async Task An_uploaded_video_becomes_a_transcript_analysis_content_and_search_hits()
    {
        var video = await TestMedia.SpokenVideoAsync(_media);
        var (complete, upload) = await _cluster.UploadAsync(video);
        Assert.Equal(HttpStatusCode.OK, complete.StatusCode);
        Assert.Equal(new FileInfo(video).Length, upload.GetProperty("sizeBytes").GetInt64());
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(await File.ReadAllBytesAsync(video))), upload.GetProperty("md5").GetString());
        Assert.Equal("h264", upload.GetProperty("media").GetProperty("videoCodec").GetString());

        var created = await _cluster.CreateProjectAsync(new { title = "Solar talk", uploadId = upload.GetProperty("uploadId").GetString() });
        var id = created.GetProperty("id").GetString()!;
        var project = await _cluster.WaitForStatusAsync(id, "completed", Wait);

        Assert.Equal(100, project.GetProperty("progress").GetInt32());
        Assert.All(project.GetProperty("steps").EnumerateArray(), s => Assert.Equal("completed", s.GetProperty("status").GetString()));
        Assert.All(project.GetProperty("steps").EnumerateArray(), s => Assert.True(s.GetProperty("attempts").GetInt32() >= 1, $"{s} has no attempt"));
        Assert.True(project.GetProperty("media").GetProperty("durationSeconds").GetDouble() > 5);
        Assert.StartsWith("http", project.GetProperty("thumbnailUrl").GetString());
        using (var thumbnail = await new HttpClient().GetAsync(project.GetProperty("thumbnailUrl").GetString()))
        {
            Assert.Equal(HttpStatusCode.OK, thumbnail.StatusCode);
            Assert.Equal(0xFF, (await thumbnail.Content.ReadAsByteArrayAsync())[0]);
        }

        var transcript = await _cluster.Http.GetFromJsonAsync<JsonElement>($"/api/projects/{id}/transcript");
        Assert.Equal("local-pocketsphinx", transcript.GetProperty("provider").GetString());
        var text = transcript.GetProperty("text").GetString()!;
        Assert.NotEmpty(transcript.GetProperty("segments").EnumerateArray());
        // pocketsphinx is weak on synthetic voices (see docs/BENCHMARKS.md), so only the shape is asserted here; word accuracy is measured on real speech.
        Assert.True(text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length >= 5, $"transcript: {text}");

        var srt = await _cluster.Http.GetStringAsync($"/api/projects/{id}/transcript.srt");
        Assert.StartsWith("1\n00:00:", srt);
        var vtt = await _cluster.Http.GetStringAsync($"/api/projects/{id}/transcript.vtt");
        Assert.StartsWith("WEBVTT\n\n00:00:", vtt);
        Assert.Equal(text, await _cluster.Http.GetStringAsync($"/api/projects/{id}/transcript.txt"));

        var analysis = await _cluster.Http.GetFromJsonAsync<JsonElement>($"/api/projects/{id}/analysis");
        Assert.Equal("local-extractive", analysis.GetProperty("provider").GetString());
        Assert.False(string.IsNullOrWhiteSpace(analysis.GetProperty("summary").GetString()));
        var content = await _cluster.Http.GetFromJsonAsync<JsonElement>($"/api/projects/{id}/content");
        Assert.StartsWith("# ", content.GetProperty("blogPost").GetString());
        Assert.All(content.GetProperty("xThread").EnumerateArray(), p => Assert.InRange(p.GetString()!.Length, 1, 280));

        var word = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).OrderByDescending(w => w.Length).First();
        var search = await _cluster.Http.GetFromJsonAsync<JsonElement>($"/api/search?q={Uri.EscapeDataString(word)}");
        var hit = search.GetProperty("items").EnumerateArray().First();
        Assert.Equal(id, hit.GetProperty("projectId").GetString());
        Assert.Contains(word, hit.GetProperty("text").GetString());
        Assert.True(hit.GetProperty("score").GetDouble() > 0);
        // The passages were embedded by the sentence model, which also embedded the query.
        Assert.Equal("local-minilm", search.GetProperty("byMeaning").GetProperty("provider").GetString());
        Assert.Equal("local-minilm", await _cluster.Database.ScalarAsync<string>($"SELECT DISTINCT provider FROM transcript_chunks WHERE project_id = '{id}'"));

        // Every step removed its temporary files, and the transcribing step took the WAV the media step left on the silo.
        Assert.Empty(_cluster.TempEntries());
        Assert.Contains($"Project {id}: transcribing the WAV the media step left on this silo", _cluster.Silos[0].Output, StringComparison.Ordinal);

        var list = await _cluster.Http.GetFromJsonAsync<JsonElement>("/api/projects?status=completed&limit=10");
        Assert.Contains(list.GetProperty("items").EnumerateArray(), p => p.GetProperty("id").GetString() == id);
    }

    [Fact]
    public async Task A_project_from_a_direct_media_url_completes()
    {
        var video = await TestMedia.SpokenVideoAsync(_media, "linked.mp4");
        await using var server = await LocalMediaServer.StartAsync(_media);
        var created = await _cluster.CreateProjectAsync(new { url = server.Url("linked.mp4") });
        Assert.Contains(created.GetProperty("status").GetString(), new[] { "queued", "processing" });
        var project = await _cluster.WaitForStatusAsync(created.GetProperty("id").GetString()!, "completed", Wait);
        Assert.Equal("direct", project.GetProperty("source").GetProperty("platform").GetString());
        Assert.Equal(new FileInfo(video).Length, server.BytesServed("linked.mp4"));
    }

    [Fact]
    public async Task A_project_from_a_web_page_goes_through_yt_dlp_and_completes()
    {
        await TestMedia.SpokenVideoAsync(_media, "embedded.mp4");
        await File.WriteAllTextAsync(Path.Combine(_media, "page.html"),
            "<html><head><title>Embedded talk</title></head><body><video controls src=\"embedded.mp4\"></video></body></html>");
        await using var server = await LocalMediaServer.StartAsync(_media);
        var created = await _cluster.CreateProjectAsync(new { url = server.Url("page.html") });
        var project = await _cluster.WaitForStatusAsync(created.GetProperty("id").GetString()!, "completed", Wait);
        Assert.True(server.BytesServed("embedded.mp4") > 0);
        Assert.NotEmpty((await _cluster.Http.GetFromJsonAsync<JsonElement>($"/api/projects/{project.GetProperty("id").GetString()}/transcript")).GetProperty("segments").EnumerateArray());
    }
}
