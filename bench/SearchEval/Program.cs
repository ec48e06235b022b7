using System.Diagnostics;
using System.Globalization;
using MediaActors.Api.Search;
using MediaActors.Grains.Search;
using MediaActors.Providers.Content.Local;
using MediaActors.Providers.Search;
using MediaActors.Providers.Transcription;
using MediaActors.Providers.Search.Local;
using MediaActors.SearchEval;
using MediaActors.ServiceDefaults.Database;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

// Usage: MediaActors.SearchEval.Bench <postgres connection string of an empty database> [rounds]
// Prints a Markdown report: retrieval quality per method and half, the embedders' throughput, the memory the sentence
// model adds to the process, and query latencies. Everything measured in this one process, side by side.
if (args.Length < 1)
{
    Console.Error.WriteLine("usage: MediaActors.SearchEval.Bench <connection string> [rounds]");
    return 2;
}

var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
await using var db = NpgsqlDataSource.Create(args[0]);
await new SchemaMigrator(db, [], NullLogger<SchemaMigrator>.Instance).MigrateAsync();
var set = RetrievalSet.Load(RetrievalSet.DefaultPath());
var texts = set.Passages.Select(p => p.Text).ToList();

// Memory: the process before the model is loaded, and after it embedded the set once.
GC.Collect();
var rssBefore = RssBytes();
using var minilm = new MiniLmEmbedder();
var load = Stopwatch.StartNew();
await minilm.EmbedAsync(["warm up"], CancellationToken.None);
var loadMs = load.ElapsedMilliseconds;
await minilm.EmbedAsync(texts, CancellationToken.None);
GC.Collect();
var rssAfter = RssBytes();
var hashed = new HashedTfIdfEmbedder();

async Task<double> PassagesPerSecond(IEmbedder embedder)
{
    var samples = new List<double>();
    for (var round = 0; round < rounds; round++)
    {
        var watch = Stopwatch.StartNew();
        await embedder.EmbedAsync(texts, CancellationToken.None);
        samples.Add(texts.Count / watch.Elapsed.TotalSeconds);
    }

    return Median(samples);
}

var minilmRate = await PassagesPerSecond(minilm);
var hashedRate = await PassagesPerSecond(hashed);

var evaluation = new RetrievalEvaluation(db, set);
await evaluation.LoadAsync("fulltext", null);
await evaluation.LoadAsync("hashed", hashed);
await evaluation.LoadAsync("minilm", minilm);
var scores = new List<RetrievalScore>();
scores.AddRange(await evaluation.ScoreAsync("fulltext", null, label: "full text only"));
scores.AddRange(await evaluation.ScoreAsync("hashed", hashed, label: "hashed TF-IDF + full text (the earlier embedding)"));
scores.AddRange(await evaluation.ScoreAsync("minilm", minilm, textWeight: 0, label: "MiniLM only"));
scores.AddRange(await evaluation.ScoreAsync("minilm", minilm, label: "MiniLM + full text (hybrid, production)"));

// Latency of one search as the API runs it: the query's vector, then the SQL over the 240 passages.
var embedMs = new List<double>();
var sqlMs = new List<double>();
foreach (var query in set.Queries)
{
    var watch = Stopwatch.StartNew();
    var vector = (await minilm.EmbedAsync([query.Text], CancellationToken.None))[0];
    embedMs.Add(watch.Elapsed.TotalMilliseconds);
    watch.Restart();
    await TranscriptSearch.SearchAsync(db, "eval-minilm", query.Text, new QueryVector(vector, minilm.Name, minilm.Model), 20, 0, CancellationToken.None);
    sqlMs.Add(watch.Elapsed.TotalMilliseconds);
}

// Key points: coverage of a talk's parts, and the generator's time on one long talk (all 240 passages) with and without vectors.
var byWords = new ExtractiveContentGenerator();
var byMeaning = new ExtractiveContentGenerator(minilm);
var coverage = new List<(string Shape, double Words, double Meaning)>();
foreach (var (parts, perPart) in new[] { (3, 4), (4, 3), (2, 6) })
{
    coverage.Add(($"{parts} parts x {perPart} passages", await KeyPointEvaluation.CoverageAsync(byWords, set, parts, perPart, trials: 40),
        await KeyPointEvaluation.CoverageAsync(byMeaning, set, parts, perPart, trials: 40)));
}

var longTalk = new Transcript("en", "", set.Passages.Select((p, i) => new TranscriptSegment(i * 20, i * 20 + 20, p.Text)).ToList(), "evaluation", "retrieval-set");
// A new generator each round: its cache of recent transcripts' vectors serves the content step after the analysis
// step of the same talk, not the next round.
async Task<double> GenerateMs(Func<ExtractiveContentGenerator> create)
{
    var samples = new List<double>();
    for (var round = 0; round < rounds; round++)
    {
        var generator = create();
        var watch = Stopwatch.StartNew();
        var analysis = await generator.AnalyzeAsync("Talk", longTalk, CancellationToken.None);
        await generator.GenerateAsync("Talk", longTalk, analysis, CancellationToken.None);
        samples.Add(watch.Elapsed.TotalMilliseconds);
    }

    return Median(samples);
}

var wordsMs = await GenerateMs(() => new ExtractiveContentGenerator());
var meaningMs = await GenerateMs(() => new ExtractiveContentGenerator(minilm));

Console.WriteLine($"Retrieval set: {set.Passages.Count} passages on {set.Passages.Select(p => p.Topic).Distinct().Count()} topics, " +
    $"{set.Queries.Count(q => q.Kind == "exact")} exact-word and {set.Queries.Count(q => q.Kind == "paraphrase")} paraphrase queries");
Console.WriteLine();
Console.WriteLine("| method | exact recall@5 | exact MRR | paraphrase recall@5 | paraphrase MRR |");
Console.WriteLine("|---|---|---|---|---|");
foreach (var method in scores.Select(s => s.Method).Distinct())
{
    var exact = scores.Single(s => s.Method == method && s.Kind == "exact");
    var paraphrase = scores.Single(s => s.Method == method && s.Kind == "paraphrase");
    Console.WriteLine($"| {method} | {exact.RecallAt5:0.000} | {exact.Mrr:0.000} | {paraphrase.RecallAt5:0.000} | {paraphrase.Mrr:0.000} |");
}

Console.WriteLine();
foreach (var score in scores.Where(s => s.Method.StartsWith("MiniLM + ", StringComparison.Ordinal) && s.Missed.Count > 0))
{
    Console.WriteLine($"Missed by {score.Method}, {score.Kind}: " + string.Join("; ", score.Missed.Select(m =>
        $"{m} \"{set.Queries.Single(q => q.Id == m.Split(' ')[0]).Text}\"")));
}

Console.WriteLine();
Console.WriteLine("| embedding cost | value |");
Console.WriteLine("|---|---|");
Console.WriteLine($"| MiniLM passages/s (batches of {MiniLmEmbedder.BatchSize}, median of {rounds}) | {minilmRate:0} |");
Console.WriteLine($"| hashed TF-IDF passages/s (median of {rounds}) | {hashedRate:0} |");
Console.WriteLine($"| ratio hashed / MiniLM | {hashedRate / minilmRate:0.0} |");
Console.WriteLine($"| model load + first embedding | {loadMs} ms |");
Console.WriteLine($"| RSS added by the model (after embedding the set) | {(rssAfter - rssBefore) / 1048576.0:0} MiB ({rssBefore / 1048576.0:0} -> {rssAfter / 1048576.0:0}) |");
Console.WriteLine($"| query embedding, median / p95 | {Median(embedMs):0.0} / {Percentile(embedMs, 0.95):0.0} ms |");
Console.WriteLine($"| search SQL over {set.Passages.Count} passages, median / p95 | {Median(sqlMs):0.0} / {Percentile(sqlMs, 0.95):0.0} ms |");
Console.WriteLine();
Console.WriteLine("| key points: share of a talk's parts covered (40 talks each) | by words (extractive-v1) | by meaning (extractive-v2) |");
Console.WriteLine("|---|---|---|");
foreach (var (shape, words, meaning) in coverage)
{
    Console.WriteLine($"| {shape} | {words:0.000} | {meaning:0.000} |");
}

Console.WriteLine($"| analysis + content of one talk of {set.Passages.Count} passages, median of {rounds} | {wordsMs:0} ms | {meaningMs:0} ms |");
return 0;

static double Median(List<double> values) => Percentile(values, 0.5);

static double Percentile(List<double> values, double p)
{
    var sorted = values.Order().ToList();
    return sorted[Math.Min(sorted.Count - 1, (int)Math.Floor(p * sorted.Count))];
}

static long RssBytes()
{
    foreach (var line in File.ReadLines("/proc/self/status"))
    {
        if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
        {
            return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }
    }

    return Environment.WorkingSet;
}
