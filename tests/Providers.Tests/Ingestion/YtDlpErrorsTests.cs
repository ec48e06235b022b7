using MediaActors.Providers.Ingestion;

namespace MediaActors.Providers.Tests.Ingestion;

public sealed class YtDlpErrorsTests
{
    [Theory]
    [InlineData("ERROR: [generic] None: Unable to download webpage: HTTP Error 404: File not found (caused by <HTTPError 404: 'File not found'>); please report this issue on  https://github.com/yt-dlp/yt-dlp/issues?q= , filling out the appropriate issue template. Confirm you are on the latest version using  yt-dlp -U", false,
        "yt-dlp could not get the video: [generic] None: Unable to download webpage: HTTP Error 404: File not found")]
    [InlineData("ERROR: Unsupported URL: https://example.com/nothing", false, "yt-dlp could not get the video: Unsupported URL: https://example.com/nothing")]
    [InlineData("ERROR: [youtube] dQw4w9WgXcQ: Private video. Sign in if you've been granted access to this video", false, null)]
    [InlineData("ERROR: [youtube] dQw4w9WgXcQ: Video unavailable", false, null)]
    [InlineData("ERROR: [instagram] CxYz: Requested content is not available, rate-limit reached or login required", false, null)]
    [InlineData("ERROR: [youtube] abc: Unable to extract initial player response; please report this issue", false, null)]
    [InlineData("ERROR: unable to download video data: HTTP Error 503: Service Unavailable", true, null)]
    [InlineData("ERROR: [vimeo] 123: Unable to download JSON metadata: HTTP Error 429: Too Many Requests", true, null)]
    [InlineData("ERROR: unable to download video data: Tunnel connection failed: 502 Bad Gateway", true, null)]
    [InlineData("ERROR: [generic] None: Unable to download webpage: <urlopen error [Errno 111] Connection refused> (caused by URLError(ConnectionRefusedError(111, 'Connection refused')))", true,
        "yt-dlp could not get the video: [generic] None: Unable to download webpage: <urlopen error [Errno 111] Connection refused>")]
    [InlineData("ERROR: [download] Got error: The read operation timed out", true, null)]
    [InlineData("ERROR: Something nobody has seen before", false, null)]
    public void Error_lines_map_to_permanent_or_retryable(string line, bool retryable, string? message)
    {
        var error = YtDlpErrors.FromExit(new YtDlpExit(1, ["WARNING: [generic] Falling back on generic information extractor", line]));

        Assert.Equal(retryable, error.Transient);
        if (message is not null)
        {
            Assert.Equal(message, error.Message);
        }
    }

    [Fact]
    public void An_error_split_at_a_carriage_return_keeps_its_text()
    {
        // yt-dlp prints "ERROR: \r[download] Got error: ..." for download errors; the line reader splits it at the \r.
        var error = YtDlpErrors.FromExit(new YtDlpExit(1,
        [
            "[download] Got error: HTTP Error 503: Service Unavailable. Retrying (1/3)...",
            "ERROR: ",
            "[download] Got error: HTTP Error 503: Service Unavailable. Giving up after 3 retries",
            "Traceback (most recent call last):",
        ]));

        Assert.True(error.Transient);
        Assert.Equal("yt-dlp could not get the video: [download] Got error: HTTP Error 503: Service Unavailable. Giving up after 3 retries", error.Message);
    }

    [Fact]
    public void A_run_that_died_without_an_error_line_is_retryable()
    {
        var error = YtDlpErrors.FromExit(new YtDlpExit(137, []));

        Assert.True(error.Transient);
        Assert.Equal("yt-dlp could not get the video: no error message", error.Message);
    }

    [Fact]
    public void Rejected_options_are_permanent()
    {
        var error = YtDlpErrors.FromExit(new YtDlpExit(2, ["yt-dlp: error: no such option: --frobnicate"]));

        Assert.False(error.Transient);
        Assert.StartsWith("yt-dlp rejected its options", error.Message);
    }
}
