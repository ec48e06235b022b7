using MediaActors.Providers.Ingestion;

namespace MediaActors.Providers.Tests.Ingestion;

public sealed class PlatformDetectorTests
{
    [Theory]
    [InlineData("https://www.youtube.com/watch?v=dQw4w9WgXcQ", SourcePlatform.YouTube)]
    [InlineData("https://youtube.com/watch?feature=share&v=dQw4w9WgXcQ", SourcePlatform.YouTube)]
    [InlineData("https://m.youtube.com/watch?v=dQw4w9WgXcQ", SourcePlatform.YouTube)]
    [InlineData("https://music.youtube.com/watch?v=dQw4w9WgXcQ", SourcePlatform.YouTube)]
    [InlineData("https://youtu.be/dQw4w9WgXcQ?t=42", SourcePlatform.YouTube)]
    [InlineData("https://www.youtube.com/shorts/abcDEF12345", SourcePlatform.YouTube)]
    [InlineData("https://www.youtube.com/live/abcDEF12345", SourcePlatform.YouTube)]
    [InlineData("https://www.youtube-nocookie.com/embed/abcDEF12345", SourcePlatform.YouTube)]
    [InlineData("HTTPS://WWW.YOUTUBE.COM/watch?v=dQw4w9WgXcQ", SourcePlatform.YouTube)]
    [InlineData("https://www.tiktok.com/@scout2015/video/6718335390845095173", SourcePlatform.TikTok)]
    [InlineData("https://m.tiktok.com/v/6718335390845095173.html", SourcePlatform.TikTok)]
    [InlineData("https://vm.tiktok.com/ZMeAbCdEf/", SourcePlatform.TikTok)]
    [InlineData("https://vt.tiktok.com/ZSabc123/", SourcePlatform.TikTok)]
    [InlineData("https://www.tiktok.com/t/ZTRabc123/", SourcePlatform.TikTok)]
    [InlineData("https://www.instagram.com/reel/CxYzAbC123/", SourcePlatform.Instagram)]
    [InlineData("https://www.instagram.com/reels/CxYzAbC123/", SourcePlatform.Instagram)]
    [InlineData("https://instagram.com/p/CxYzAbC123/?igsh=abc", SourcePlatform.Instagram)]
    [InlineData("https://www.instagram.com/tv/CxYzAbC123", SourcePlatform.Instagram)]
    [InlineData("https://www.instagram.com/someone/reel/CxYzAbC123/", SourcePlatform.Instagram)]
    [InlineData("https://www.facebook.com/NASA/videos/1234567890/", SourcePlatform.Facebook)]
    [InlineData("https://m.facebook.com/watch/?v=1234567890", SourcePlatform.Facebook)]
    [InlineData("https://www.facebook.com/watch?v=1234567890", SourcePlatform.Facebook)]
    [InlineData("https://www.facebook.com/reel/1234567890", SourcePlatform.Facebook)]
    [InlineData("https://www.facebook.com/share/v/AbCdEf123/", SourcePlatform.Facebook)]
    [InlineData("https://www.facebook.com/video.php?v=1234567890", SourcePlatform.Facebook)]
    [InlineData("https://fb.watch/abc123XYZ/", SourcePlatform.Facebook)]
    [InlineData("https://x.com/NASA/status/1234567890123456789", SourcePlatform.X)]
    [InlineData("https://twitter.com/NASA/status/1234567890123456789?s=20", SourcePlatform.X)]
    [InlineData("https://mobile.twitter.com/NASA/status/1234567890123456789", SourcePlatform.X)]
    [InlineData("https://x.com/i/status/1234567890123456789", SourcePlatform.X)]
    [InlineData("https://x.com/i/web/status/1234567890123456789", SourcePlatform.X)]
    [InlineData("https://vimeo.com/76979871", SourcePlatform.Vimeo)]
    [InlineData("https://vimeo.com/76979871/abc123def4", SourcePlatform.Vimeo)]
    [InlineData("https://player.vimeo.com/video/76979871?h=abc", SourcePlatform.Vimeo)]
    [InlineData("https://vimeo.com/channels/staffpicks/76979871", SourcePlatform.Vimeo)]
    [InlineData("https://vimeo.com/groups/shortfilms/videos/76979871", SourcePlatform.Vimeo)]
    [InlineData("https://cdn.example.com/videos/talk.mp4", SourcePlatform.Direct)]
    [InlineData("http://127.0.0.1:8080/clip.mp4", SourcePlatform.Direct)]
    [InlineData("https://example.com/page-with-a-video.html", SourcePlatform.Direct)]
    // Platform hosts with paths that are not a single video, and look-alike hosts, are not that platform.
    [InlineData("https://www.youtube.com/", SourcePlatform.Direct)]
    [InlineData("https://www.youtube.com/watch", SourcePlatform.Direct)]
    [InlineData("https://www.youtube.com/@somechannel", SourcePlatform.Direct)]
    [InlineData("https://notyoutube.com/watch?v=dQw4w9WgXcQ", SourcePlatform.Direct)]
    [InlineData("https://youtube.com.evil.example/watch?v=dQw4w9WgXcQ", SourcePlatform.Direct)]
    [InlineData("https://www.tiktok.com/@scout2015", SourcePlatform.Direct)]
    [InlineData("https://www.instagram.com/someone/", SourcePlatform.Direct)]
    [InlineData("https://www.facebook.com/NASA", SourcePlatform.Direct)]
    [InlineData("https://x.com/NASA", SourcePlatform.Direct)]
    [InlineData("https://x.com/NASA/status/notanumber", SourcePlatform.Direct)]
    [InlineData("https://vimeo.com/about", SourcePlatform.Direct)]
    [InlineData("https://player.vimeo.com/", SourcePlatform.Direct)]
    public void Detects_the_platform_from_host_and_path(string link, SourcePlatform expected)
    {
        var (url, platform) = PlatformDetector.Parse(link);

        Assert.Equal(expected, platform);
        Assert.Equal(expected, PlatformDetector.Detect(url));
    }

    [Theory]
    [InlineData("", "The link is empty.")]
    [InlineData("   ", "The link is empty.")]
    [InlineData("not a url", "not a valid absolute URL")]
    [InlineData("/etc/passwd", "Only http and https links are supported, not 'file:'.")]
    [InlineData("ftp://example.com/video.mp4", "Only http and https links are supported, not 'ftp:'.")]
    [InlineData("javascript:alert(1)", "Only http and https links are supported, not 'javascript:'.")]
    [InlineData("file:///etc/passwd", "Only http and https links are supported, not 'file:'.")]
    [InlineData("data:video/mp4;base64,AAAA", "Only http and https links are supported, not 'data:'.")]
    [InlineData("gopher://127.0.0.1:6379/_FLUSHALL", "Only http and https links are supported, not 'gopher:'.")]
    [InlineData("http://", "not a valid absolute URL")]
    [InlineData("http:///path/only", "not a valid absolute URL")]
    [InlineData("https://user:secret@example.com/video.mp4", "Links with a user name or password (user@host) are not supported.")]
    [InlineData("https://user@example.com/video.mp4", "Links with a user name or password (user@host) are not supported.")]
    public void Refuses_links_that_are_not_plain_http_or_https(string link, string expectedMessage)
    {
        var error = Assert.Throws<StepException>(() => PlatformDetector.Parse(link));

        Assert.False(error.Transient);
        Assert.Contains(expectedMessage, error.Message);
        Assert.DoesNotContain("secret", error.Message);
    }

    [Fact]
    public void Refuses_links_longer_than_the_limit()
    {
        var error = Assert.Throws<StepException>(() => PlatformDetector.Parse("https://example.com/" + new string('a', LinkRules.MaxLength)));

        Assert.False(error.Transient);
        Assert.Equal($"The link is longer than {LinkRules.MaxLength} characters.", error.Message);
    }

    [Theory]
    [InlineData("https://www.youtube.com/watch?v=dQw4w9WgXcQ", typeof(YouTubeHandler))]
    [InlineData("https://www.tiktok.com/@scout2015/video/6718335390845095173", typeof(TikTokHandler))]
    [InlineData("https://www.instagram.com/reel/CxYzAbC123/", typeof(InstagramHandler))]
    [InlineData("https://fb.watch/abc123XYZ/", typeof(FacebookHandler))]
    [InlineData("https://x.com/NASA/status/1234567890123456789", typeof(XHandler))]
    [InlineData("https://vimeo.com/76979871", typeof(VimeoHandler))]
    [InlineData("https://cdn.example.com/videos/talk.mp4", typeof(DirectMediaHandler))]
    public void Resolves_the_registered_handler_of_each_platform(string link, Type expected)
    {
        using var host = IngestionTestHost.Production();
        var url = LinkRules.Parse(link);

        var handler = host.Get<PlatformDetector>().Resolve(url);

        Assert.IsType(expected, handler);
        Assert.True(handler.CanHandle(url));
        Assert.Equal(7, host.Get<IEnumerable<IPlatformHandler>>().Count());
        Assert.Single(host.Get<IEnumerable<IPlatformHandler>>(), other => other.CanHandle(url));
    }

    [Fact]
    public void Without_a_handler_for_the_platform_the_link_is_refused()
    {
        var detector = new PlatformDetector([]);

        var error = Assert.Throws<StepException>(() => detector.Resolve(new Uri("https://vimeo.com/76979871")));

        Assert.False(error.Transient);
        Assert.Equal("Vimeo links are not supported by this installation.", error.Message);
    }
}
