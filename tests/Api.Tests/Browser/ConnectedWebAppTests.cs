using System.Text.RegularExpressions;
using MediaActors.Api.Tests.EndToEnd;
using MediaActors.Providers.Tests.Fakes;
using Microsoft.Playwright;

namespace MediaActors.Api.Tests.Browser;

/// <summary>The running system with Google and an avatar-video generator played by local servers that speak their protocols.</summary>
public sealed class ConnectedBrowserFixture : BrowserFixture
{
    private ConnectedServers _servers = null!;

    public FakeGoogleServer Google => _servers.Google;

    public FakeAvatarGenerator Generator => _servers.Generator;

    public override async Task InitializeAsync()
    {
        _servers = await ConnectedServers.StartAsync();
        await base.InitializeAsync();
    }

    protected override void Configure(Dictionary<string, string?> settings) => _servers.Configure(settings);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _servers.DisposeAsync();
    }
}

/// <summary>
/// From a processed project's page to YouTube and to an avatar video, followed live on the publish queue and avatar
/// pages, and the notifications they leave, in chromium against the running system.
/// </summary>
public sealed class ConnectedWebAppTests(ConnectedBrowserFixture fixture) : IClassFixture<ConnectedBrowserFixture>
{
    [Fact]
    public async Task A_project_is_published_to_YouTube_and_made_into_an_avatar_video_from_its_page_and_both_are_followed_live()
    {
        var cluster = fixture.Cluster;
        var (_, upload) = await cluster.UploadAsync(await TestMedia.SpokenVideoAsync(fixture.Media, "launch.mp4"));
        var created = await cluster.CreateProjectAsync(new { uploadId = upload.GetProperty("uploadId").GetString(), title = "Launch talk" });
        var projectId = created.GetProperty("id").GetString()!;
        await cluster.WaitForStatusAsync(projectId, "completed", TimeSpan.FromMinutes(3));
        await PublishTests.ConnectAsync(cluster.Http);

        var (context, page, errors) = await WebAppTests.OpenAsync(fixture.Browser, cluster);
        await using var _ = context;
        await WebAppTests.SignInAsync(page, cluster.ApiKey);
        var navigations = 0;

        // Publish to YouTube: the job appears on the publish queue and reaches completed without a reload.
        await page.GotoAsync($"/#/projects/{projectId}");
        await Assertions.Expect(page.Locator("#project-title")).ToHaveTextAsync("Launch talk");
        page.FrameNavigated += (_, frame) => { if (frame == page.MainFrame && !frame.Url.Contains('#', StringComparison.Ordinal)) { navigations++; } };
        await page.GetByRole(AriaRole.Button, new() { Name = "Publish to YouTube" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Publish queue" })).ToBeVisibleAsync();
        var job = page.Locator("#publish-rows tr").First;
        await Assertions.Expect(job.Locator(".status")).ToHaveTextAsync("completed", new() { Timeout = 60_000 });
        await Assertions.Expect(job.GetByRole(AriaRole.Link, new() { Name = "Watch on YouTube" })).ToHaveAttributeAsync("href", new Regex("^https://www.youtube.com/watch\\?v="));
        await Assertions.Expect(page.Locator("#quota")).ToContainTextAsync("units used");
        await Assertions.Expect(page.Locator("#google-state")).ToContainTextAsync("Connected");
        await WebAppTests.ScreenshotAsync(page, "publish-queue");

        // An avatar video from the project: the script is filled in from it, the generator is asked, and its callback
        // turns the video ready on the page, playable and downloadable.
        await page.GotoAsync($"/#/projects/{projectId}");
        await page.GetByRole(AriaRole.Button, new() { Name = "Make an avatar video from this" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Avatar videos" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByLabel("Body")).Not.ToBeEmptyAsync();
        await Assertions.Expect(page.Locator("#video-title")).ToHaveValueAsync(new Regex("."));
        await page.GetByLabel("Avatar", new() { Exact = true }).SelectOptionAsync(new SelectOptionValue { Index = 0 });
        await page.GetByRole(AriaRole.Button, new() { Name = "Make the video" }).ClickAsync();
        var video = page.Locator("#video-list li").First;
        var videoId = (await video.GetAttributeAsync("data-id"))!;
        try
        {
            await Assertions.Expect(video.Locator(".status")).ToContainTextAsync("processing", new() { Timeout = 30_000 });
        }
        catch (PlaywrightException ex)
        {
            // Whether the video or the page stood still: what the API says and what the silo logged about it.
            var state = await (await cluster.Http.GetAsync($"/api/videos/{videoId}")).Content.ReadAsStringAsync();
            var log = string.Join('\n', cluster.Silos.SelectMany(s => s.Output.Split('\n')).Where(l => l.Contains(videoId, StringComparison.Ordinal) || l.Contains("fail", StringComparison.OrdinalIgnoreCase)));
            var live = await page.Locator("#live").TextContentAsync();
            throw new InvalidOperationException($"The page did not show the video processing (its live connection: \"{live}\"). The API says: {state}\nThe silo logged:\n{log}", ex);
        }

        var result = await File.ReadAllBytesAsync(await TestMedia.SpokenVideoAsync(fixture.Media, "avatar.mp4"));
        using (var callback = await fixture.Generator.CallbackAsync(new Uri(cluster.Http.BaseAddress!, "/api/webhooks/video-complete"),
            new { videoId, eventId = "evt-browser", videoUrl = fixture.Generator.AddFile("avatar.mp4", result) }))
        {
            callback.EnsureSuccessStatusCode();
        }

        await Assertions.Expect(video.Locator(".status")).ToHaveTextAsync("ready", new() { Timeout = 30_000 });
        await Assertions.Expect(video.Locator("video")).ToHaveCountAsync(1);
        await Assertions.Expect(video.GetByRole(AriaRole.Link, new() { Name = "Download" })).ToBeVisibleAsync();
        await WebAppTests.ScreenshotAsync(page, "avatar-videos");
        Assert.Equal(0, navigations);

        // Notifications: the finished project, the published video and the ready avatar video, unread until marked.
        await Assertions.Expect(page.Locator("#unread")).ToHaveTextAsync(new Regex("^[1-9][0-9]* unread$"));
        await page.GetByRole(AriaRole.Link, new() { Name = "Notifications" }).ClickAsync();
        var notes = page.Locator("#notification-list li");
        await Assertions.Expect(notes).ToHaveCountAsync(3);
        await WebAppTests.ScreenshotAsync(page, "notifications");
        await page.GetByRole(AriaRole.Button, new() { Name = "Mark all as read" }).ClickAsync();
        await Assertions.Expect(page.Locator("#unread")).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator("#notification-list li.unread")).ToHaveCountAsync(0);
        Assert.Empty(errors);
    }
}
