namespace SafeMem.Benchmarks.Caching;

/// <summary>
/// Keys drawn from a Zipf distribution (rank r has probability proportional to 1 / r^s) over
/// <c>0 .. keySpace - 1</c>, key 0 the most popular, from a fixed seed so every run replays the same sequence.
/// </summary>
internal static class ZipfKeys
{
    /// <summary>The skew the studies use (s = 0.86, a common fit for web and key-value traces).</summary>
    public const double DefaultSkew = 0.86;

    /// <summary>Draws <paramref name="count"/> keys by inverse-CDF sampling over a precomputed cumulative table.</summary>
    public static int[] Generate(int keySpace, int count, double skew = DefaultSkew, int seed = 42)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(keySpace, 1);
        var cumulative = new double[keySpace];
        double sum = 0;
        for (int rank = 0; rank < keySpace; rank++)
        {
            sum += 1.0 / Math.Pow(rank + 1, skew);
            cumulative[rank] = sum;
        }

        var random = new Random(seed);
        var keys = new int[count];
        for (int i = 0; i < count; i++)
        {
            int index = Array.BinarySearch(cumulative, random.NextDouble() * sum);
            keys[i] = Math.Min(index < 0 ? ~index : index, keySpace - 1);
        }

        return keys;
    }

    /// <summary>
    /// A fixed, heavy-tailed weight per key: log-normal with median <paramref name="median"/> and shape
    /// <paramref name="sigma"/>, at least 1, from a fixed seed (independent of popularity).
    /// </summary>
    public static long[] LogNormalWeights(int keySpace, double median = 100, double sigma = 1.0, int seed = 7)
    {
        var random = new Random(seed);
        var weights = new long[keySpace];
        for (int i = 0; i < keySpace; i++)
        {
            // Box-Muller: one standard normal from two uniforms (1 - u keeps the logarithm finite).
            double normal = Math.Sqrt(-2.0 * Math.Log(1.0 - random.NextDouble())) * Math.Cos(2.0 * Math.PI * random.NextDouble());
            weights[i] = Math.Max(1, (long)Math.Round(median * Math.Exp(sigma * normal)));
        }

        return weights;
    }
}
