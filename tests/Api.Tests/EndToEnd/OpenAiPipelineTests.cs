using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MediaActors.Providers.Tests.Fakes;

namespace MediaActors.Api.Tests.EndToEnd;

/// <summary>The pipeline with the OpenAI-compatible providers, against a local server that speaks the OpenAI protocol.</summary>
public sealed class OpenAiPipelineTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromMinutes(3);
    private FakeOpenAiServer _openAi = null!;
    private PipelineCluster _cluster = null!;
    private string _media = null!;

    public async Task InitializeAsync()
    {
        _openAi = await FakeOpenAiServer.StartAsync();
        _cluster = await PipelineCluster.StartAsync(configure: s =>
        {
            s["OpenAI:Endpoint"] = _openAi.Endpoint.ToString();
            s["OpenAI:ApiKey"] = _openAi.ApiKey;
            s["Transcription:Provider"] = "openai";
            s["Content:Provider"] = "openai";
            s["Embeddings:Provider"] = "openai";
            s["Embeddings:OpenAI:Dimensions"] = "64";
            s["Projects:MaxStepAttempts"] = "3";
        });
        _media = Directory.CreateTempSubdirectory("ma-media-").FullName;
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _openAi.DisposeAsync();
        Directory.Delete(_media, recursive: true);
    }

    [Fact]
    public async Task Transient_provider_errors_are_retried_a_rejected_request_fails_and_retry_resumes_at_that_step()
    {
        // Two server errors on transcription (retried), then a 400 on the first chat call (not retried).
        _openAi.FailNext(1, 500, "audio/transcriptions");
        _openAi.FailNext(1, 429, "audio/transcriptions");
        _openAi.FailNext(1, 400, "chat/completions");
        var (_, upload) = await _cluster.UploadAsync(await TestMedia.SpokenVideoAsync(_media));
        var created = await _cluster.CreateProjectAsync(new { uploadId = upload.GetProperty("uploadId").GetString() });
        var id = created.GetProperty("id").GetString()!;

        var project = await _cluster.WaitForStatusAsync(id, "failed", Wait);
        var steps = project.GetProperty("steps").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!);
        Assert.Equal("completed", steps["transcribing"].GetProperty("status").GetString());
        Assert.Equal(3, steps["transcribing"].GetProperty("attempts").GetInt32());
        Assert.Equal("failed", steps["analyzing"].GetProperty("status").GetString());
        Assert.Equal(1, steps["analyzing"].GetProperty("attempts").GetInt32());
        Assert.Contains("400", project.GetProperty("error").GetString());
        Assert.DoesNotContain(_openAi.ApiKey, project.GetProperty("error").GetString());

        var transcriptionCalls = _openAi.RequestsTo("/v1/audio/transcriptions").Count;
        Assert.Equal(HttpStatusCode.OK, (await _cluster.Http.PostAsync($"/api/projects/{id}/retry", null)).StatusCode);
        project = await _cluster.WaitForStatusAsync(id, "completed", Wait);
        Assert.Equal(transcriptionCalls, _openAi.RequestsTo("/v1/audio/transcriptions").Count);

        var transcript = await _cluster.Http.GetFromJsonAsync<JsonElement>($"/api/projects/{id}/transcript");
        Assert.Equal("openai", transcript.GetProperty("provider").GetString());
        Assert.Equal("whisper-1", transcript.GetProperty("model").GetString());
        var words = transcript.GetProperty("segments").EnumerateArray().SelectMany(s => s.GetProperty("words").EnumerateArray()).ToList();
        Assert.NotEmpty(words);
        var analysis = await _cluster.Http.GetFromJsonAsync<JsonElement>($"/api/projects/{id}/analysis");
        Assert.Equal("openai", analysis.GetProperty("provider").GetString());
        var content = await _cluster.Http.GetFromJsonAsync<JsonElement>($"/api/projects/{id}/content");
        Assert.Equal("openai", content.GetProperty("provider").GetString());
        var upload0 = _openAi.RequestsTo("/v1/audio/transcriptions").Last();
        Assert.Equal("verbose_json", upload0.FormValue("response_format"));
        // The media step made the compressed copy for this provider, and it is what was uploaded.
        Assert.Equal("audio.mp3", upload0.FileName);

        var word = transcript.GetProperty("text").GetString()!.Split(' ', StringSplitOptions.RemoveEmptyEntries).OrderByDescending(w => w.Length).First().Trim('.', ',');
        var search = await _cluster.Http.GetFromJsonAsync<JsonElement>($"/api/search?q={Uri.EscapeDataString(word)}");
        Assert.Contains(search.GetProperty("items").EnumerateArray(), h => h.GetProperty("projectId").GetString() == id);
    }
}
