using MediaActors.Api.Tests.EndToEnd;
using Microsoft.Playwright;

namespace MediaActors.Api.Tests.Browser;

/// <summary>
/// The web app in a real browser (Debian's chromium driven by Playwright) against the running system: sign in with the
/// offered development key, create a project from a link, watch it reach completed without reloading, sign in as a
/// second user and see nothing of the first. Screenshots of each page at desktop and phone width go to
/// .data/test/screenshots (test artifacts, not committed).
/// </summary>
public sealed class WebAppTests : IAsyncLifetime
{
    private PipelineCluster _cluster = null!;
    private string _media = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public static string ScreenshotDirectory => Path.Combine(HostProcess.RepositoryRoot(), ".data", "test", "screenshots");

    public async Task InitializeAsync()
    {
        _cluster = await PipelineCluster.StartAsync();
        _media = Directory.CreateTempSubdirectory("ma-web-").FullName;
        var chromium = Environment.GetEnvironmentVariable("MA_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";
        Assert.True(File.Exists(chromium), $"No chromium at {chromium}: ./test.sh installs Debian's chromium (or set MA_CHROMIUM).");
        _playwright = await Playwright.CreateAsync();
        // Root in CI: chromium's sandbox needs an unprivileged user, so it is off for the tests.
        _browser = await _playwright.Chromium.LaunchAsync(new() { ExecutablePath = chromium, Headless = true, Args = ["--no-sandbox"] });
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _cluster.DisposeAsync();
        Directory.Delete(_media, recursive: true);
    }

    [Fact]
    public async Task A_user_signs_in_creates_a_project_from_a_link_and_sees_it_complete_live_and_another_user_sees_none_of_it()
    {
        await TestMedia.SpokenVideoAsync(_media, "talk.mp4");
        await using var server = await LocalMediaServer.StartAsync(_media);
        var context = await _browser.NewContextAsync(new() { BaseURL = _cluster.Http.BaseAddress!.ToString(), ViewportSize = new() { Width = 1280, Height = 800 } });
        var page = await context.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, error) => errors.Add(error);

        await page.GotoAsync("/");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await ScreenshotAsync(page, "sign-in");
        // A wrong key is refused with a message; the offered development key signs in.
        await page.GetByLabel("API key").FillAsync("ma_not_a_real_key_at_all");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("not accepted");
        await page.GetByRole(AriaRole.Button, new() { Name = "Use the development key" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Projects" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText("No projects yet")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#live")).ToHaveTextAsync("Live");

        // New project: the link is checked in the browser first, then created.
        await page.GetByRole(AriaRole.Link, new() { Name = "New project" }).ClickAsync();
        await page.GetByLabel("Video link").FillAsync("ftp://example.com/a.mp4");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create project" }).ClickAsync();
        await Assertions.Expect(page.Locator("#link-error")).ToContainTextAsync("http(s) link");
        await ScreenshotAsync(page, "new-project");
        await page.GetByLabel("Video link").FillAsync(server.Url("talk.mp4"));
        await page.GetByLabel("Title (optional)").FillAsync("Browser talk");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create project" }).ClickAsync();

        // The row appears and follows the project to completed over SignalR, without a reload.
        var row = page.Locator("tbody tr", new() { HasText = "Browser talk" });
        await Assertions.Expect(row).ToBeVisibleAsync();
        var navigations = 0;
        page.FrameNavigated += (_, frame) => { if (frame == page.MainFrame) { navigations++; } };
        await Assertions.Expect(row.Locator(".status")).ToHaveTextAsync("completed", new() { Timeout = 180_000 });
        await Assertions.Expect(row.Locator(".pct")).ToHaveTextAsync("100%");
        Assert.Equal(0, navigations);
        await ScreenshotAsync(page, "projects");

        // A second user (an OIDC-style token) sees none of it.
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.GetByLabel("API key").FillAsync(PipelineCluster.Jwt("second-user"));
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.GetByText("No projects yet")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("tbody tr")).ToHaveCountAsync(0);
        Assert.Empty(errors);
    }

    /// <summary>The page at desktop and at phone width.</summary>
    private static async Task ScreenshotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(ScreenshotDirectory);
        await page.SetViewportSizeAsync(1280, 800);
        await page.ScreenshotAsync(new() { Path = Path.Combine(ScreenshotDirectory, $"{name}-desktop.png"), FullPage = true });
        await page.SetViewportSizeAsync(390, 844);
        await page.ScreenshotAsync(new() { Path = Path.Combine(ScreenshotDirectory, $"{name}-phone.png"), FullPage = true });
        await page.SetViewportSizeAsync(1280, 800);
    }
}
