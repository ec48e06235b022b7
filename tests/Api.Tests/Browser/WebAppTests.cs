using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using MediaActors.Api.Tests.EndToEnd;
using Microsoft.Playwright;

namespace MediaActors.Api.Tests.Browser;

/// <summary>One running system and one chromium for the browser tests of a class.</summary>
public class BrowserFixture : IAsyncLifetime
{
    public const string Operator = "operator-user";

    public PipelineCluster Cluster { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public string Media { get; private set; } = null!;

    private IPlaywright _playwright = null!;

    public virtual async Task InitializeAsync()
    {
        Cluster = await PipelineCluster.StartAsync(configure: Configure);
        Media = Directory.CreateTempSubdirectory("ma-web-").FullName;
        var chromium = Environment.GetEnvironmentVariable("MA_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";
        Assert.True(File.Exists(chromium), $"No chromium at {chromium}: ./test.sh installs Debian's chromium (or set MA_CHROMIUM).");
        _playwright = await Playwright.CreateAsync();
        // Root in CI: chromium's sandbox needs an unprivileged user, so it is off for the tests.
        Browser = await _playwright.Chromium.LaunchAsync(new() { ExecutablePath = chromium, Headless = true, Args = ["--no-sandbox", "--autoplay-policy=no-user-gesture-required"] });
    }

    protected virtual void Configure(Dictionary<string, string?> settings) => settings["Auth:Operators:0"] = Operator;

    public virtual async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
        await Cluster.DisposeAsync();
        Directory.Delete(Media, recursive: true);
    }
}

/// <summary>
/// The web app in a real browser (Debian's chromium driven by Playwright) against the running system (silo and API as
/// processes, PostgreSQL, Azurite, ffmpeg, pocketsphinx). Screenshots of each page at desktop and phone width go to
/// .data/test/screenshots (test artifacts, not committed).
/// </summary>
public sealed class WebAppTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    private static readonly TimeSpan Processing = TimeSpan.FromMinutes(3);

    public static string ScreenshotDirectory => Path.Combine(HostProcess.RepositoryRoot(), ".data", "test", "screenshots");

    private PipelineCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task A_user_signs_in_creates_a_project_from_a_link_and_sees_it_complete_live_and_another_user_sees_none_of_it()
    {
        await TestMedia.SpokenVideoAsync(fixture.Media, "talk.mp4");
        await using var server = await LocalMediaServer.StartAsync(fixture.Media);
        var (context, page, errors) = await OpenAsync();
        await using var _ = context;

        await page.GotoAsync("/");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await ScreenshotAsync(page, "sign-in");
        // A wrong key is refused with a message; the offered development key signs in.
        await page.GetByLabel("API key").FillAsync("ma_not_a_real_key_at_all");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert).First).ToContainTextAsync("not accepted");
        await page.GetByRole(AriaRole.Button, new() { Name = "Use the development key" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Projects" })).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#live")).ToHaveTextAsync("Live");

        // New project: the link is checked in the browser first, then created.
        await page.GetByRole(AriaRole.Link, new() { Name = "New project" }).ClickAsync();
        await page.GetByLabel("Video link").FillAsync("ftp://example.com/a.mp4");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create project" }).ClickAsync();
        await Assertions.Expect(page.Locator("#link-error")).ToContainTextAsync("http(s) link");
        await ScreenshotAsync(page, "new-project");
        await page.GetByLabel("Video link").FillAsync(server.Url("talk.mp4"));
        await page.Locator("#link-title").FillAsync("Browser talk");
        // The first answer is lost on the way back (the project was created): the app sends the request again with
        // the same Idempotency-Key and gets the same project, not a second one.
        var keys = new List<string?>();
        await page.RouteAsync("**/api/projects", async route =>
        {
            keys.Add(await route.Request.HeaderValueAsync("idempotency-key"));
            if (keys.Count == 1)
            {
                await route.FetchAsync();
                await route.AbortAsync("connectionreset");
            }
            else
            {
                await route.ContinueAsync();
            }
        });
        await page.GetByRole(AriaRole.Button, new() { Name = "Create project" }).ClickAsync();

        // The row appears and follows the project to completed over SignalR, without a reload.
        var row = page.Locator("#project-rows tr", new() { HasText = "Browser talk" });
        await Assertions.Expect(row).ToBeVisibleAsync();
        var navigations = 0;
        page.FrameNavigated += (_, frame) => { if (frame == page.MainFrame) { navigations++; } };
        await Assertions.Expect(row.Locator(".status")).ToHaveTextAsync("completed", new() { Timeout = (float)Processing.TotalMilliseconds });
        await Assertions.Expect(row.Locator(".pct")).ToHaveTextAsync("100%");
        Assert.Equal(0, navigations);
        await ScreenshotAsync(page, "projects");
        Assert.Equal(2, keys.Count);
        Assert.Matches("^[0-9a-f]{32}$", keys[0]);
        Assert.Equal(keys[0], keys[1]);
        await page.UnrouteAsync("**/api/projects");
        Assert.Equal(1L, await fixture.Cluster.Database.ScalarAsync<long>("SELECT count(*) FROM projects WHERE title = 'Browser talk'"));

        // A second user (an OIDC-style token) sees none of it: not in the list, not by its address, not in search.
        var projectHref = await row.Locator("a").GetAttributeAsync("href");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await SignInAsync(page, PipelineCluster.Jwt("second-user"));
        await Assertions.Expect(page.GetByText("No projects yet")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#project-rows tr")).ToHaveCountAsync(0);
        await page.GotoAsync("/" + projectHref);
        await Assertions.Expect(page.Locator("#project-error")).ToContainTextAsync("No project with this id");
        await page.GotoAsync("/#/search?q=batteries");
        await Assertions.Expect(page.Locator("#search-summary")).ToHaveTextAsync("Nothing found.");
        Assert.Empty(errors);
    }

    [Fact]
    public async Task A_dropped_video_uploads_in_blocks_resumes_after_a_reload_and_its_page_plays_copies_exports_and_is_found_by_search()
    {
        var path = await TestMedia.SpokenVideoAsync(fixture.Media, "dropped.mp4");
        var file = await File.ReadAllBytesAsync(path);
        const int blockBytes = 64 * 1024;
        var blocks = (file.Length + blockBytes - 1) / blockBytes;
        Assert.True(blocks >= 4, $"The test video is {file.Length} bytes: too small for a resumed upload.");
        var (context, page, errors) = await OpenAsync();
        await using var _ = context;
        await context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"]);
        await SignInAsync(page, Cluster.ApiKey);
        await page.EvaluateAsync($"localStorage.setItem('mediaactors.blockBytes', '{blockBytes}')");

        // Client-side checks: a text file is refused before anything is sent.
        await page.GotoAsync("/#/new");
        await DropAsync(page, "notes.txt", "text/plain", "hello"u8.ToArray(), 1);
        await Assertions.Expect(page.Locator("#upload-error")).ToContainTextAsync("not a video or audio file");

        // The first two blocks reach storage, every later one fails; then the page is reloaded mid-upload.
        var sent = new List<int>();
        var stored = 0;
        page.Request += (_, request) => { if (BlockIndex(request.Url) is { } i && request.Method == "PUT") { lock (sent) { sent.Add(i); } } };
        page.Response += (_, response) => { if (BlockIndex(response.Url) is < 2 && response.Status == 201) { Interlocked.Increment(ref stored); } };
        await page.RouteAsync(new Regex("comp=block&blockid="), async route =>
        {
            if (BlockIndex(route.Request.Url) >= 2) { await route.AbortAsync(); } else { await route.ContinueAsync(); }
        });
        await page.Locator("#upload-title").FillAsync("Dropped talk");
        await DropAsync(page, "dropped.mp4", "video/mp4", file, 1_700_000_000_000);
        await Assertions.Expect(page.Locator("#upload-figures")).ToContainTextAsync(" of ");
        await ScreenshotAsync(page, "upload");
        await WaitUntilAsync(() => Volatile.Read(ref stored) == 2, TimeSpan.FromSeconds(30), "the first two blocks were not stored");
        await page.ReloadAsync();
        await page.UnrouteAsync(new Regex("comp=block&blockid="));
        lock (sent) { sent.Clear(); }

        // The same file dropped again goes on from where it stopped: blocks 0 and 1 are not sent again.
        await page.GotoAsync("/#/new");
        await DropAsync(page, "dropped.mp4", "video/mp4", file, 1_700_000_000_000);
        await Assertions.Expect(page.Locator("#upload-state")).ToContainTextAsync($"2 of {blocks} blocks already uploaded");
        await page.WaitForURLAsync(new Regex("#/projects/[0-9a-f-]{36}$"), new() { Timeout = 60_000 });
        lock (sent)
        {
            Assert.Equal(Enumerable.Range(2, blocks - 2), sent.Order());
        }

        // The project page follows the project to completed live, then shows the transcript, analysis and content.
        await Assertions.Expect(page.Locator("#project-title")).ToHaveTextAsync("Dropped talk");
        await Assertions.Expect(page.Locator("#project-status")).ToHaveTextAsync("completed", new() { Timeout = (float)Processing.TotalMilliseconds });
        var lines = page.Locator("#transcript .line");
        await Assertions.Expect(lines.First).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#content-blog")).Not.ToBeEmptyAsync();
        await Assertions.Expect(page.Locator("#analysis-summary")).Not.ToBeEmptyAsync();
        var projectId = page.Url.Split('/')[^1];
        var upload = await Cluster.Database.ScalarAsync<long>($"SELECT size_bytes FROM uploads WHERE project_id = '{projectId}'");
        Assert.Equal(file.Length, upload);

        // From the keyboard: Tab reaches the transcript lines and Enter plays from the focused one.
        await page.EvaluateAsync("() => { const p = document.getElementById('player'); p.muted = true; }");
        var middle = lines.Nth(await lines.CountAsync() / 2);
        var middleStart = double.Parse((await middle.GetAttributeAsync("data-start"))!, System.Globalization.CultureInfo.InvariantCulture);
        await page.Locator("[data-export=md]").FocusAsync();
        for (var i = 0; i < 20 && !await middle.EvaluateAsync<bool>("l => l === document.activeElement"); i++)
        {
            await page.Keyboard.PressAsync("Tab");
        }

        await page.Keyboard.PressAsync("Enter");
        await WaitUntilAsync(async () => Math.Abs(await PlayerTimeAsync(page) - middleStart) < 1, TimeSpan.FromSeconds(15), "Enter on a line did not move the player");
        await page.EvaluateAsync("() => document.getElementById('player').pause()");

        // A click on a transcript line moves the player there and marks the line as the one being spoken.
        var line = lines.Last;
        var start = double.Parse((await line.GetAttributeAsync("data-start"))!, System.Globalization.CultureInfo.InvariantCulture);
        await line.ClickAsync();
        await WaitUntilAsync(async () => await PlayerTimeAsync(page) >= start - 0.05, TimeSpan.FromSeconds(15), "the player did not move to the clicked line");
        Assert.InRange(await PlayerTimeAsync(page), start - 0.05, start + 5);
        await Assertions.Expect(line).ToHaveAttributeAsync("aria-current", "true");
        await page.EvaluateAsync("() => document.getElementById('player').pause()");
        await ScreenshotAsync(page, "project");

        // Copy the blog post: the clipboard holds exactly the generated post.
        var blog = JsonDocument.Parse(await Cluster.Http.GetStringAsync($"/api/projects/{projectId}/content")).RootElement.GetProperty("blogPost").GetString();
        await page.GetByRole(AriaRole.Button, new() { Name = "Copy blog post" }).ClickAsync();
        Assert.Equal(blog, await page.EvaluateAsync<string>("() => navigator.clipboard.readText()"));

        // Export: the Markdown transcript downloads with the project's name.
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Markdown" }).ClickAsync());
        Assert.Equal("Dropped_talk.md", download.SuggestedFilename);
        var markdown = await File.ReadAllTextAsync((await download.PathAsync())!);
        Assert.StartsWith("# Transcript", markdown, StringComparison.Ordinal);
        Assert.Contains("**[00:00]**", markdown, StringComparison.Ordinal);

        // Search finds a passage (words the recogniser heard in the last line); the hit opens the project at that
        // moment of the video.
        var words = Regex.Matches(await line.EvaluateAsync<string>("l => [...l.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join(' ')"), "[A-Za-z]{5,}")
            .Select(m => m.Value).Take(2).ToList();
        Assert.NotEmpty(words);
        await page.GetByRole(AriaRole.Link, new() { Name = "Search", Exact = true }).ClickAsync();
        await page.GetByLabel("Words or a question").FillAsync(string.Join(' ', words));
        await page.GetByRole(AriaRole.Button, new() { Name = "Search", Exact = true }).ClickAsync();
        var hit = page.Locator("#search-results a", new() { HasText = "Dropped talk" }).First;
        await Assertions.Expect(hit).ToBeVisibleAsync();
        await ScreenshotAsync(page, "search");
        var href = (await hit.GetAttributeAsync("href"))!;
        var at = double.Parse(href[(href.IndexOf("?t=", StringComparison.Ordinal) + 3)..], System.Globalization.CultureInfo.InvariantCulture);
        await hit.ClickAsync();
        await Assertions.Expect(page.Locator("#project-title")).ToHaveTextAsync("Dropped talk");
        await WaitUntilAsync(async () => Math.Abs(await PlayerTimeAsync(page) - at) < 0.5, TimeSpan.FromSeconds(15), $"the player was not moved to {at} s");
        await Assertions.Expect(page.Locator("#transcript .line[aria-current=true]")).ToHaveCountAsync(1);
        Assert.Empty(errors);
    }

    [Fact]
    public async Task A_running_project_is_cancelled_from_its_page_and_the_other_pages_render()
    {
        var (context, page, errors) = await OpenAsync();
        await using var _ = context;
        await SignInAsync(page, PipelineCluster.Jwt("canceller"));
        // About 40 s of speech keeps the transcription running long enough to cancel it from the page.
        var text = string.Join(" ", Enumerable.Repeat(TestMedia.Speech, 4));
        var path = await TestMedia.SpokenVideoAsync(fixture.Media, "long.mp4", text);
        await page.GotoAsync("/#/new");
        await page.Locator("#upload-title").FillAsync("Long talk");
        await DropAsync(page, "long.mp4", "video/mp4", await File.ReadAllBytesAsync(path), 1_700_000_000_000);
        await page.WaitForURLAsync(new Regex("#/projects/[0-9a-f-]{36}$"), new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator("#project-status")).ToHaveTextAsync("processing (transcribing)", new() { Timeout = (float)Processing.TotalMilliseconds });
        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        await Assertions.Expect(page.Locator("#project-status")).ToHaveTextAsync("cancelled");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Retry" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Cancel" })).ToBeHiddenAsync();
        var projectId = page.Url.Split('/')[^1];
        using var owner = new HttpClient { BaseAddress = Cluster.Http.BaseAddress };
        owner.DefaultRequestHeaders.Authorization = new("Bearer", PipelineCluster.Jwt("canceller"));
        var stored = JsonDocument.Parse(await owner.GetStringAsync($"/api/projects/{projectId}")).RootElement;
        Assert.Equal("cancelled", stored.GetProperty("status").GetString());

        // The notification of the cancelled project, the stats with their charts, the publish and avatar pages
        // (neither Google nor a generator is configured here: they say so), and no operator page for a user.
        await page.GotoAsync("/#/stats");
        await Assertions.Expect(page.Locator("#stats-body figure").First).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#stats-body")).ToContainTextAsync("cancelled 1");
        await ScreenshotAsync(page, "stats");
        await page.GotoAsync("/#/publish");
        await Assertions.Expect(page.Locator("#publish-unavailable")).ToContainTextAsync("not available");
        await ScreenshotAsync(page, "publish");
        await page.GotoAsync("/#/videos");
        await Assertions.Expect(page.Locator("#videos-unavailable")).ToContainTextAsync("not available");
        await ScreenshotAsync(page, "videos");
        await Assertions.Expect(page.Locator("#nav-operator")).ToBeHiddenAsync();
        await page.GotoAsync("/#/operator");
        await Assertions.Expect(page.Locator("#operator-error")).ToContainTextAsync("for operators");
        Assert.Empty(errors);
    }

    [Fact]
    public async Task An_operator_sees_the_cluster_and_pipeline_figures_and_opens_the_Orleans_Dashboard()
    {
        var (context, page, errors) = await OpenAsync();
        await using var _ = context;
        await SignInAsync(page, PipelineCluster.Jwt(BrowserFixture.Operator));
        await Assertions.Expect(page.Locator("#nav-operator")).ToBeVisibleAsync();
        await page.Locator("#nav-operator").ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Operator" })).ToBeVisibleAsync();
        var silos = page.Locator("table", new() { Has = page.Locator("caption", new() { HasText = "Silos" }) });
        await Assertions.Expect(silos.Locator("tbody tr")).ToHaveCountAsync(1);
        await Assertions.Expect(silos.Locator("tbody tr")).ToContainTextAsync("Active");
        await Assertions.Expect(page.Locator("table caption", new() { HasText = "Steps" })).ToBeVisibleAsync();
        await ScreenshotAsync(page, "operator");

        // The dashboard opens in a new tab (a dashboard session cookie, or loopback as here).
        var dashboard = await context.RunAndWaitForPageAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Open the Orleans Dashboard" }).ClickAsync());
        await dashboard.WaitForLoadStateAsync();
        Assert.EndsWith("/dashboard/", dashboard.Url, StringComparison.Ordinal);
        var cookies = await context.CookiesAsync();
        Assert.Contains(cookies, c => c.Path == "/dashboard" && c.HttpOnly && c.SameSite == SameSiteAttribute.Strict);
        Assert.Empty(errors);
    }

    [Fact]
    public async Task A_page_whose_live_connection_could_not_start_says_so_keeps_trying_and_catches_up_once_connected()
    {
        var (context, page, errors) = await OpenAsync();
        await using var _ = context;
        var token = PipelineCluster.Jwt("reconnecting-user");
        using var owner = new HttpClient { BaseAddress = Cluster.Http.BaseAddress };
        owner.DefaultRequestHeaders.Authorization = new("Bearer", token);
        async Task CreateAsync(string title)
        {
            var response = await owner.PostAsJsonAsync("/api/projects", new { url = "http://127.0.0.1:9/x.mp4", title });
            Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        }

        // The hub's negotiation fails (the API busy or restarting) until the test lets it through.
        var refused = 0;
        var blocked = true;
        await page.RouteAsync("**/hubs/projects/negotiate**", async route =>
        {
            if (Volatile.Read(ref blocked))
            {
                Interlocked.Increment(ref refused);
                await route.AbortAsync("connectionrefused");
            }
            else
            {
                await route.ContinueAsync();
            }
        });
        await SignInAsync(page, token);
        await Assertions.Expect(page.Locator("#live")).ToHaveTextAsync("Live updates paused; reconnecting…");
        await Assertions.Expect(page.GetByText("No projects yet")).ToBeVisibleAsync();

        // A project created meanwhile is not on the page; the app tries again (after 2 s, then 4 s: polled, not slept)
        // and, once connected, reads the page again, so it appears.
        await CreateAsync("Made while offline");
        var tries = DateTime.UtcNow.AddSeconds(20);
        while (Volatile.Read(ref refused) < 2)
        {
            Assert.True(DateTime.UtcNow < tries, $"the app tried {refused} time(s) in 20 s");
            await Task.Delay(100);
        }

        await Assertions.Expect(page.Locator("#project-rows tr")).ToHaveCountAsync(0);
        Volatile.Write(ref blocked, false);
        await Assertions.Expect(page.Locator("#live")).ToHaveTextAsync("Live", new() { Timeout = 20_000 });
        await Assertions.Expect(page.Locator("#project-rows tr", new() { HasText = "Made while offline" })).ToBeVisibleAsync();

        // From then on the list follows live: a new project appears without a reload.
        var navigations = 0;
        page.FrameNavigated += (_, frame) => { if (frame == page.MainFrame) { navigations++; } };
        await CreateAsync("Made while live");
        await Assertions.Expect(page.Locator("#project-rows tr", new() { HasText = "Made while live" })).ToBeVisibleAsync(new() { Timeout = 20_000 });
        Assert.Equal(0, navigations);
        Assert.Empty(errors);
    }

    private Task<(IBrowserContext Context, IPage Page, List<string> Errors)> OpenAsync() => OpenAsync(fixture.Browser, Cluster);

    /// <summary>A fresh browser context (no storage shared with other tests) on the API host; page errors are collected.</summary>
    internal static async Task<(IBrowserContext Context, IPage Page, List<string> Errors)> OpenAsync(IBrowser browser, PipelineCluster cluster)
    {
        var context = await browser.NewContextAsync(new() { BaseURL = cluster.Http.BaseAddress!.ToString(), ViewportSize = new() { Width = 1280, Height = 800 } });
        var page = await context.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, error) => errors.Add(error);
        return (context, page, errors);
    }

    internal static async Task SignInAsync(IPage page, string key)
    {
        await page.GotoAsync("/");
        await page.GetByLabel("API key").FillAsync(key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Projects" })).ToBeVisibleAsync();
    }

    /// <summary>Drops a file on the upload zone the way a browser does (a drop event carrying a DataTransfer).</summary>
    internal static async Task DropAsync(IPage page, string name, string type, byte[] content, long lastModified)
    {
        var transfer = await page.EvaluateHandleAsync(
            """
            ([base64, name, type, lastModified]) => {
              const binary = atob(base64);
              const bytes = new Uint8Array(binary.length);
              for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
              const transfer = new DataTransfer();
              transfer.items.add(new File([bytes], name, { type, lastModified }));
              return transfer;
            }
            """, new object[] { Convert.ToBase64String(content), name, type, lastModified });
        await page.DispatchEventAsync("#drop-zone", "dragover", new { dataTransfer = transfer });
        await page.DispatchEventAsync("#drop-zone", "drop", new { dataTransfer = transfer });
    }

    private static int? BlockIndex(string url)
    {
        var match = Regex.Match(url, "comp=block&blockid=([^&]+)");
        if (!match.Success)
        {
            return null;
        }

        var id = System.Text.Encoding.ASCII.GetString(Convert.FromBase64String(Uri.UnescapeDataString(match.Groups[1].Value)));
        return int.Parse(id["block-".Length..], System.Globalization.CultureInfo.InvariantCulture);
    }

    internal static Task<double> PlayerTimeAsync(IPage page) => page.EvaluateAsync<double>("() => document.getElementById('player').currentTime");

    internal static Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what) => WaitUntilAsync(() => Task.FromResult(condition()), timeout, what);

    internal static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out: {what}.");
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// The page at desktop and at phone width, each checked by axe-core against WCAG 2 A and AA (labels, names,
    /// landmarks, contrast): a violation fails the test with the rule and the elements.
    /// </summary>
    internal static async Task ScreenshotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(ScreenshotDirectory);
        foreach (var (width, height, label) in new[] { (1280, 800, "desktop"), (390, 844, "phone") })
        {
            await page.SetViewportSizeAsync(width, height);
            await page.ScreenshotAsync(new() { Path = Path.Combine(ScreenshotDirectory, $"{name}-{label}.png"), FullPage = true });
            await AssertAccessibleAsync(page, $"{name} at {label} width");
        }

        await page.SetViewportSizeAsync(1280, 800);
    }

    private static async Task AssertAccessibleAsync(IPage page, string what)
    {
        if (!await page.EvaluateAsync<bool>("() => typeof axe !== 'undefined'"))
        {
            await page.AddScriptTagAsync(new() { Path = Path.Combine(NodeModules, "axe-core", "axe.min.js") });
        }

        var violations = await page.EvaluateAsync<JsonElement>(
            """
            async () => (await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }))
              .violations.map(v => `${v.id}: ${v.help} (${v.nodes.map(n => n.target.join(' ')).join(', ')})`)
            """);
        var found = violations.EnumerateArray().Select(v => v.GetString()).ToList();
        Assert.True(found.Count == 0, $"Accessibility violations on {what}:\n{string.Join('\n', found)}");
    }

    private static string NodeModules =>
        Environment.GetEnvironmentVariable("MA_TEST_NODE_MODULES") is { Length: > 0 } value ? value : Path.Combine(HostProcess.RepositoryRoot(), "tools", "node_modules");
}
