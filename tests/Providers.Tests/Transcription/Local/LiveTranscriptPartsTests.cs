using MediaActors.Providers.Transcription;
using MediaActors.Providers.Transcription.Local;

namespace MediaActors.Providers.Tests.Transcription.Local;

/// <summary>The parts a transcription reports as it goes (the live transcript) and their reuse by a later attempt.</summary>
public sealed class LiveTranscriptPartsTests(LibriVoxAudio audio) : IClassFixture<LibriVoxAudio>
{
    // The 25 s of all five clips in 6 s chunks make several parts, decoded by two decoders at once.
    private static LocalTranscriber Transcriber() => new(new LocalTranscriberOptions { MaxChunkSeconds = 6, Parallelism = 2 });

    [Fact]
    public async Task Parts_come_in_time_order_and_joined_they_are_the_transcript()
    {
        var parts = new List<TranscribedPart>();
        var input = new TranscriptionInput(audio.AllClips, null, 0) { Parts = new PartLog(parts) };
        var transcript = await Transcriber().TranscribeAsync(input, null, CancellationToken.None);

        Assert.True(parts.Count >= 3, $"{parts.Count} parts");
        Assert.Equal(Enumerable.Range(0, parts.Count), parts.Select(p => p.Index));
        Assert.All(parts, p => Assert.Equal(parts.Count, p.Count));
        Assert.Single(parts.Select(p => p.Plan).Distinct());
        Assert.StartsWith("local-pocketsphinx/pocketsphinx-en-us/", parts[0].Plan, StringComparison.Ordinal);
        // Contiguous spans from the start, each part's segments inside its span.
        Assert.Equal(0, parts[0].Start);
        Assert.All(parts.Zip(parts.Skip(1)), pair => Assert.Equal(pair.First.End, pair.Second.Start, 3));
        Assert.All(parts, p => Assert.All(p.Segments, s => Assert.InRange(s.Start, p.Start, p.End)));
        Assert.Equal(transcript.Segments, parts.SelectMany(p => p.Segments), SegmentComparer.Instance);
        Assert.Equal(transcript.Text, string.Join(' ', parts.Select(p => p.Text).Where(t => t.Length > 0)));
    }

    [Fact]
    public void A_part_finished_early_waits_for_the_earlier_ones()
    {
        var sent = new List<int>();
        var sequencer = new PartSequencer(new CollectIndex(sent), first: 0);
        foreach (var index in new[] { 2, 1, 4 })
        {
            sequencer.Finished(Part(index));
        }

        Assert.Empty(sent);
        Assert.Equal(3, sequencer.Held);
        sequencer.Finished(Part(0));
        Assert.Equal([0, 1, 2], sent);
        sequencer.Finished(Part(3));
        sequencer.Finished(Part(1));
        Assert.Equal([0, 1, 2, 3, 4], sent);
        Assert.Equal(0, sequencer.Held);
    }

    [Fact]
    public async Task A_later_attempt_reuses_the_stored_parts_and_reports_only_the_rest()
    {
        var first = new List<TranscribedPart>();
        var whole = await Transcriber().TranscribeAsync(new TranscriptionInput(audio.AllClips, null, 0) { Parts = new PartLog(first) }, null, CancellationToken.None);

        // The first two parts were stored by an attempt that died; marked so that reuse shows in the result.
        var stored = first.Take(2).Select(p => p with
        {
            Text = $"stored {p.Index}",
            Segments = [new TranscriptSegment(p.Start, p.Start + 0.5, $"stored {p.Index}")],
        }).ToList();
        var rest = new List<TranscribedPart>();
        var resumed = await Transcriber().TranscribeAsync(
            new TranscriptionInput(audio.AllClips, null, 0) { Parts = new PartLog(rest), Resume = new TranscriptionResume(first[0].Plan, stored) }, null,
            CancellationToken.None);

        Assert.Equal(Enumerable.Range(2, first.Count - 2), rest.Select(p => p.Index));
        Assert.Equal(stored.Concat(rest).SelectMany(p => p.Segments), resumed.Segments, SegmentComparer.Instance);
        Assert.Equal(whole.Segments.Skip(first[0].Segments.Count + first[1].Segments.Count), resumed.Segments.Skip(2), SegmentComparer.Instance);

        // Parts of another plan (the audio cut otherwise) are not reused: everything is transcribed and reported again.
        var again = new List<TranscribedPart>();
        var fresh = await Transcriber().TranscribeAsync(
            new TranscriptionInput(audio.AllClips, null, 0) { Parts = new PartLog(again), Resume = new TranscriptionResume("local-pocketsphinx/pocketsphinx-en-us/other", stored) },
            null, CancellationToken.None);
        Assert.Equal(first.Count, again.Count);
        Assert.Equal(whole.Segments, fresh.Segments, SegmentComparer.Instance);
    }

    private static TranscribedPart Part(int index) => new("plan", index, 5, index, index + 1, $"part {index}", "en", []);

    private sealed class CollectIndex(List<int> indexes) : IProgress<TranscribedPart>
    {
        public void Report(TranscribedPart value) => indexes.Add(value.Index);
    }

    /// <summary>Segments equal by time, text and speaker (records with word lists compare lists by reference).</summary>
    private sealed class SegmentComparer : IEqualityComparer<TranscriptSegment>
    {
        public static readonly SegmentComparer Instance = new();

        public bool Equals(TranscriptSegment? x, TranscriptSegment? y) =>
            x is not null && y is not null && x.Start == y.Start && x.End == y.End && x.Text == y.Text && x.Speaker == y.Speaker;

        public int GetHashCode(TranscriptSegment obj) => HashCode.Combine(obj.Start, obj.Text);
    }
}
