using MediaActors.Grains.Publish;
using MediaActors.Providers.Tests.Fakes;

namespace MediaActors.Grains.Tests.Publish;

/// <summary>The YouTube quota on its own cluster (a used-up quota pauses every job of the Google project).</summary>
public sealed class PublishQuotaTests(PublishTestCluster fixture) : IClassFixture<PublishTestCluster>
{
    [Fact]
    public async Task Quota_exceeded_sends_jobs_back_to_pending_without_an_attempt_until_midnight_pacific_then_they_upload()
    {
        await fixture.ConnectAsync("quota-user");
        var (first, firstContent) = await fixture.BlobSourceAsync("quota-user", PublishTestCluster.ChunkBytes + 1, seed: 11);
        var (second, secondContent) = await fixture.BlobSourceAsync("quota-user", PublishTestCluster.ChunkBytes + 2, seed: 12);
        fixture.Google.FailNext("upload-start", 403, "quotaExceeded", "The request cannot be completed because you have exceeded your quota.");

        var (_, job, _) = await fixture.QueueAsync("quota-user", first);
        var waiting = await PublishTestCluster.WaitForAsync(job, v => v.WaitingForQuotaUntil is not null);
        Assert.Equal(PublishStatus.Pending, waiting.Status);
        Assert.Equal(0, waiting.Attempts);
        var (_, expectedReset) = PublishQuotaGrain.QuotaDay(fixture.Clock.GetUtcNow(), "America/Los_Angeles");
        Assert.Equal(expectedReset, waiting.WaitingForQuotaUntil);
        var pacific = TimeZoneInfo.ConvertTime(expectedReset, TimeZoneInfo.FindSystemTimeZoneById("America/Los_Angeles"));
        Assert.Equal(TimeSpan.Zero, pacific.TimeOfDay);

        var quota = fixture.Client.GetGrain<IPublishQuotaGrain>(FakeGoogleServer.ClientId);
        var view = await quota.Get();
        Assert.Equal(expectedReset, view.PausedUntil);
        Assert.Equal(expectedReset, view.ResetsAt);

        // The queue is paused: a job queued now waits too, without asking Google anything.
        var starts = UploadStarts();
        var (_, later, _) = await fixture.QueueAsync("quota-user", second);
        var laterWaiting = await PublishTestCluster.WaitForAsync(later, v => v.WaitingForQuotaUntil is not null);
        Assert.Equal(0, laterWaiting.Attempts);
        await Task.Delay(1500);
        Assert.Equal(starts, UploadStarts());
        Assert.Equal(PublishStatus.Pending, (await job.Get()).Status);

        // Past midnight Pacific: the watchdog reminders start both jobs, and they upload.
        fixture.Clock.Offset = expectedReset - fixture.Clock.GetUtcNow() + TimeSpan.FromMinutes(1);
        var done = await PublishTestCluster.WaitForStatusAsync(job, PublishStatus.Completed);
        var laterDone = await PublishTestCluster.WaitForStatusAsync(later, PublishStatus.Completed);
        Assert.Equal(1, done.Attempts);
        Assert.Null(done.WaitingForQuotaUntil);
        Assert.Equal(firstContent, fixture.Google.Videos[done.VideoId!].Content);
        Assert.Equal(secondContent, fixture.Google.Videos[laterDone.VideoId!].Content);

        // A new quota day counts from zero: two uploads of 1,600 units each.
        var today = await quota.Get();
        Assert.Null(today.PausedUntil);
        Assert.Equal(3200, today.UsedUnits);
    }

    [Fact]
    public void The_quota_day_ends_at_midnight_pacific_in_winter_and_in_summer()
    {
        // 2026-12-02 20:00 UTC is 12:00 PST (UTC-8): the reset is 2026-12-03 08:00 UTC.
        var (day, reset) = PublishQuotaGrain.QuotaDay(DateTimeOffset.Parse("2026-12-02T20:00:00Z", System.Globalization.CultureInfo.InvariantCulture), "America/Los_Angeles");
        Assert.Equal(new DateOnly(2026, 12, 2), day);
        Assert.Equal(DateTimeOffset.Parse("2026-12-03T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture), reset);

        // 2026-07-01 06:30 UTC is still June 30 in PDT (UTC-7): the reset is 2026-07-01 07:00 UTC.
        (day, reset) = PublishQuotaGrain.QuotaDay(DateTimeOffset.Parse("2026-07-01T06:30:00Z", System.Globalization.CultureInfo.InvariantCulture), "America/Los_Angeles");
        Assert.Equal(new DateOnly(2026, 6, 30), day);
        Assert.Equal(DateTimeOffset.Parse("2026-07-01T07:00:00Z", System.Globalization.CultureInfo.InvariantCulture), reset);
    }

    private int UploadStarts() => fixture.Google.Requests.Count(r => r.StartsWith("POST /upload/youtube/v3/videos", StringComparison.Ordinal));
}
