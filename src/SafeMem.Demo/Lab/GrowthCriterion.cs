namespace SafeMem.Demo.Lab;

/// <summary>
/// Decides whether a variant kept growing, in a way a single noisy sample cannot sway.
/// </summary>
/// <remarks>
/// A SafeMem variant is allowed to grow while it fills up (a cache up to its budget, a registry up to the live set),
/// so only the second half of the run counts. Its slope is the Theil–Sen estimate (the median of the slopes between
/// every pair of samples), which ignores a minority of outliers such as one late collection; the late growth is
/// that slope times the steps of the second half. A variant grew when its late growth exceeds both an absolute
/// floor and a share of the naive variant's late growth, so the verdict scales with the scenario and does not
/// depend on timing (it is per step, not per second).
/// </remarks>
internal static class GrowthCriterion
{
    /// <summary>Late growth below this never counts: heap noise (runtime caches, a listener's buffers) stays far under it.</summary>
    public const long FloorBytes = 512 * 1024;

    /// <summary>A fix that still grows at a tenth of the leak's rate is a leak.</summary>
    public const double NaiveShare = 0.10;

    /// <summary>Samples needed in the second half for a verdict; fewer and the run is too short to judge.</summary>
    public const int MinimumLateSamples = 4;

    public static long Threshold(long naiveLateGrowth) => Math.Max(FloorBytes, (long)(NaiveShare * Math.Max(0, naiveLateGrowth)));

    public static bool Grew(long lateGrowth, long naiveLateGrowth) => lateGrowth > Threshold(naiveLateGrowth);

    public static long LateGrowth(IReadOnlyList<Sample> samples)
    {
        // samples[0] is the baseline; the run proper is samples[1..].
        int steps = samples.Count - 1;
        if (steps < 2 * MinimumLateSamples)
        {
            return 0;
        }

        int start = 1 + (steps / 2);
        var late = new List<(double X, double Y)>(samples.Count - start);
        for (int i = start; i < samples.Count; i++)
        {
            late.Add((samples[i].Step, samples[i].RetainedBytes));
        }

        double slope = TheilSenSlope(late);
        return (long)(slope * (late[^1].X - late[0].X));
    }

    public static double TheilSenSlope(IReadOnlyList<(double X, double Y)> points)
    {
        var slopes = new List<double>(points.Count * (points.Count - 1) / 2);
        for (int i = 0; i < points.Count; i++)
        {
            for (int j = i + 1; j < points.Count; j++)
            {
                double dx = points[j].X - points[i].X;
                if (dx != 0)
                {
                    slopes.Add((points[j].Y - points[i].Y) / dx);
                }
            }
        }

        if (slopes.Count == 0)
        {
            return 0;
        }

        slopes.Sort();
        int middle = slopes.Count / 2;
        return slopes.Count % 2 == 1 ? slopes[middle] : (slopes[middle - 1] + slopes[middle]) / 2;
    }
}
