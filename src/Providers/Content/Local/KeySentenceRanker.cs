namespace MediaActors.Providers.Content.Local;

/// <summary>
/// Ranks sentences by TextRank over TF-IDF cosine similarity (IDF taken over the transcript's own sentences).
/// Very long transcripts use the similarity to the transcript's centroid instead, which is linear in size.
/// </summary>
internal static class KeySentenceRanker
{
    private const double Damping = 0.85;
    private const int MaxTextRankSentences = 800;
    private const int MaxIterations = 60;
    private const double Tolerance = 1e-7;
    private const double RedundancyThreshold = 0.6;

    /// <summary>One score per sentence, higher is more central.</summary>
    public static double[] Rank(IReadOnlyList<TranscriptSentence> sentences, CancellationToken cancellationToken)
    {
        var n = sentences.Count;
        var scores = new double[n];
        if (n == 0)
        {
            return scores;
        }

        var vectors = Vectorise(sentences);
        var centrality = n <= MaxTextRankSentences ? TextRank(vectors, cancellationToken) : Centroid(vectors);
        for (var i = 0; i < n; i++)
        {
            scores[i] = centrality[i] * Shape(sentences[i]);
        }

        return scores;
    }

    /// <summary>
    /// The <paramref name="count"/> best sentences, in transcript order. Without <paramref name="meaning"/>, the best
    /// by score, skipping near-duplicates (by words) of ones already taken. With sentence vectors, by maximal marginal
    /// relevance: each pick maximises <see cref="MeaningRelevance"/> × its normalised score minus the rest × its
    /// highest cosine to the picks so far, so the selection spreads over the parts of a talk instead of circling its
    /// main theme (docs/BENCHMARKS.md, "Key points").
    /// </summary>
    /// <remarks>Sentences whose text is in <paramref name="excludeTexts"/>, or repeats a chosen one word for word, are never taken.</remarks>
    public static List<int> Select(IReadOnlyList<TranscriptSentence> sentences, double[] scores, int count, IReadOnlySet<string>? excludeTexts = null,
        IReadOnlyList<float[]>? meaning = null)
    {
        var order = Enumerable.Range(0, sentences.Count)
            .Where(i => excludeTexts is null || !excludeTexts.Contains(sentences[i].Text))
            .OrderByDescending(i => scores[i]).ThenBy(i => i)
            .ToList();
        if (meaning is not null && meaning.Count == sentences.Count)
        {
            return SelectByMeaning(sentences, scores, count, order, meaning);
        }

        var vectors = Vectorise(sentences);
        var chosen = new List<int>();
        var chosenTexts = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var candidate in order)
        {
            if (chosen.Count >= count)
            {
                break;
            }

            if (chosen.All(c => Cosine(vectors[c], vectors[candidate]) < RedundancyThreshold) && chosenTexts.Add(sentences[candidate].Text))
            {
                chosen.Add(candidate);
            }
        }

        // Near-duplicates are only a last resort, for transcripts that repeat themselves.
        return FillUp(sentences, count, order, chosen, chosenTexts);
    }

    /// <summary>Tops <paramref name="chosen"/> up to <paramref name="count"/> from <paramref name="order"/> (no text twice); in transcript order.</summary>
    private static List<int> FillUp(IReadOnlyList<TranscriptSentence> sentences, int count, List<int> order, List<int> chosen, HashSet<string> chosenTexts)
    {
        foreach (var candidate in order)
        {
            if (chosen.Count >= count)
            {
                break;
            }

            if (!chosen.Contains(candidate) && chosenTexts.Add(sentences[candidate].Text))
            {
                chosen.Add(candidate);
            }
        }

        chosen.Sort();
        return chosen;
    }

    /// <summary>The weight of a sentence's own score against its novelty in the maximal-marginal-relevance pick.</summary>
    public const double MeaningRelevance = 0.3;

    private static List<int> SelectByMeaning(IReadOnlyList<TranscriptSentence> sentences, double[] scores, int count, List<int> order, IReadOnlyList<float[]> meaning)
    {
        var best = order.Count == 0 ? 0 : Math.Max(order.Max(i => scores[i]), 1e-12);
        var chosen = new List<int>();
        var chosenTexts = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var closest = new double[sentences.Count];
        var left = order.Where(i => scores[i] > 0).ToList();
        while (chosen.Count < count && left.Count > 0)
        {
            var pick = left.MaxBy(i => MeaningRelevance * scores[i] / best - (1 - MeaningRelevance) * (chosen.Count == 0 ? 0 : closest[i]));
            left.Remove(pick);
            if (!chosenTexts.Add(sentences[pick].Text))
            {
                continue;
            }

            chosen.Add(pick);
            foreach (var other in left)
            {
                closest[other] = Math.Max(closest[other], Dot(meaning[pick], meaning[other]));
            }
        }

        // Sentences that scored nothing are only a last resort, as without vectors.
        return FillUp(sentences, count, order, chosen, chosenTexts);
    }

    private static double Dot(float[] a, float[] b)
    {
        double sum = 0;
        for (var i = 0; i < a.Length && i < b.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    /// <summary>Short fragments and sentences made of fillers are poor summaries whatever their centrality.</summary>
    private static double Shape(TranscriptSentence sentence)
    {
        var words = sentence.Words.Count;
        var terms = sentence.Terms.Count;
        var length = words < 5 ? 0.3 : words < 9 ? 0.7 : words > 40 ? 0.85 : 1.0;
        var substance = terms == 0 ? 0.1 : terms < 3 ? 0.6 : 1.0;
        return length * substance;
    }

    private static double[] TextRank(SparseVector[] vectors, CancellationToken cancellationToken)
    {
        var n = vectors.Length;
        var neighbours = new List<int>[n];
        var weights = new List<double>[n];
        var outWeight = new double[n];
        for (var i = 0; i < n; i++)
        {
            neighbours[i] = [];
            weights[i] = [];
        }

        for (var i = 0; i < n; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            for (var j = i + 1; j < n; j++)
            {
                var similarity = Cosine(vectors[i], vectors[j]);
                if (similarity > 0.01)
                {
                    neighbours[i].Add(j);
                    weights[i].Add(similarity);
                    neighbours[j].Add(i);
                    weights[j].Add(similarity);
                    outWeight[i] += similarity;
                    outWeight[j] += similarity;
                }
            }
        }

        // The graph is symmetric, so each node can pull from its neighbours: rank[i] = (1-d)/n + d * sum(w_ij * rank[j] / out_j).
        var edgeTargets = neighbours.Select(l => l.ToArray()).ToArray();
        var edgeWeights = weights.Select(l => l.ToArray()).ToArray();
        var rank = Enumerable.Repeat(1.0 / n, n).ToArray();
        var share = new double[n];
        var next = new double[n];
        for (var iteration = 0; iteration < MaxIterations; iteration++)
        {
            for (var j = 0; j < n; j++)
            {
                share[j] = outWeight[j] > 0 ? rank[j] / outWeight[j] : 0;
            }

            var delta = 0.0;
            for (var i = 0; i < n; i++)
            {
                var sum = 0.0;
                var targets = edgeTargets[i];
                var edge = edgeWeights[i];
                for (var k = 0; k < targets.Length; k++)
                {
                    sum += edge[k] * share[targets[k]];
                }

                next[i] = ((1 - Damping) / n) + (Damping * sum);
                delta += Math.Abs(next[i] - rank[i]);
            }

            (rank, next) = (next, rank);
            if (delta < Tolerance)
            {
                break;
            }
        }

        return rank;
    }

    private static double[] Centroid(SparseVector[] vectors)
    {
        var centroid = new Dictionary<int, double>();
        foreach (var vector in vectors)
        {
            for (var k = 0; k < vector.Terms.Length; k++)
            {
                centroid[vector.Terms[k]] = centroid.GetValueOrDefault(vector.Terms[k]) + vector.Weights[k];
            }
        }

        var centre = SparseVector.From(centroid);
        return [.. vectors.Select(v => Cosine(v, centre))];
    }

    private static SparseVector[] Vectorise(IReadOnlyList<TranscriptSentence> sentences)
    {
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        var documentFrequency = new List<int>();
        var termCounts = new Dictionary<int, int>[sentences.Count];
        for (var i = 0; i < sentences.Count; i++)
        {
            var counts = new Dictionary<int, int>();
            foreach (var term in sentences[i].Terms)
            {
                if (!ids.TryGetValue(term, out var id))
                {
                    id = ids.Count;
                    ids[term] = id;
                    documentFrequency.Add(0);
                }

                if (!counts.TryGetValue(id, out var count))
                {
                    documentFrequency[id]++;
                }

                counts[id] = count + 1;
            }

            termCounts[i] = counts;
        }

        var n = sentences.Count;
        var vectors = new SparseVector[n];
        for (var i = 0; i < n; i++)
        {
            var weights = termCounts[i].ToDictionary(
                kv => kv.Key,
                kv => (1 + Math.Log(kv.Value)) * Math.Log(1 + (n / (double)documentFrequency[kv.Key])));
            vectors[i] = SparseVector.From(weights);
        }

        return vectors;
    }

    private static double Cosine(SparseVector a, SparseVector b)
    {
        if (a.Norm == 0 || b.Norm == 0)
        {
            return 0;
        }

        double dot = 0;
        int i = 0, j = 0;
        while (i < a.Terms.Length && j < b.Terms.Length)
        {
            if (a.Terms[i] == b.Terms[j])
            {
                dot += a.Weights[i++] * b.Weights[j++];
            }
            else if (a.Terms[i] < b.Terms[j])
            {
                i++;
            }
            else
            {
                j++;
            }
        }

        return dot / (a.Norm * b.Norm);
    }

    /// <summary>Term ids in ascending order with their weights, so two vectors meet in one merge pass.</summary>
    private sealed record SparseVector(int[] Terms, double[] Weights, double Norm)
    {
        public static SparseVector From(Dictionary<int, double> weights)
        {
            var terms = weights.Keys.Order().ToArray();
            var values = terms.Select(t => weights[t]).ToArray();
            return new SparseVector(terms, values, Math.Sqrt(values.Sum(v => v * v)));
        }
    }
}
