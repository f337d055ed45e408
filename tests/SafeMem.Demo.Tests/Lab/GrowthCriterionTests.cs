using SafeMem.Demo.Lab;

namespace SafeMem.Demo.Tests.Lab;

public sealed class GrowthCriterionTests
{
    private const long MB = 1024 * 1024;

    [Fact]
    public void LateGrowth_SteadyLeak_IsTheSlopeOverTheSecondHalf()
    {
        // 100 KB per step for 40 steps: the second half (steps 21..40) spans 19 steps.
        IReadOnlyList<Sample> samples = Series(40, step => step * 100 * 1024L);

        Assert.Equal(19 * 100 * 1024L, GrowthCriterion.LateGrowth(samples));
    }

    [Fact]
    public void LateGrowth_FillThenPlateau_IsZero()
    {
        // A bounded cache: fills for 12 steps, then holds.
        IReadOnlyList<Sample> samples = Series(40, step => Math.Min(step, 12) * 200 * 1024L);

        Assert.Equal(0, GrowthCriterion.LateGrowth(samples));
    }

    [Fact]
    public void LateGrowth_NoisyPlateauWithOutliers_StaysUnderTheFloor()
    {
        var random = new Random(7);
        IReadOnlyList<Sample> samples = Series(40, step =>
        {
            long noise = random.Next(-64 * 1024, 64 * 1024);
            long spike = step is 33 or 39 ? 8 * MB : 0; // two late samples taken mid-something
            return (2 * MB) + noise + spike;
        });

        long late = GrowthCriterion.LateGrowth(samples);

        Assert.True(Math.Abs(late) < GrowthCriterion.FloorBytes, $"late growth {late}");
        Assert.False(GrowthCriterion.Grew(late, naiveLateGrowth: 0));
    }

    [Fact]
    public void Grew_SlowLeakAboveAShareOfTheNaiveOne_Counts()
    {
        long naive = 20 * MB;

        Assert.Equal(2 * MB, GrowthCriterion.Threshold(naive));
        Assert.True(GrowthCriterion.Grew((2 * MB) + 1, naive));
        Assert.False(GrowthCriterion.Grew(2 * MB, naive));
        Assert.Equal(GrowthCriterion.FloorBytes, GrowthCriterion.Threshold(1 * MB));
        Assert.True(GrowthCriterion.Grew(GrowthCriterion.FloorBytes + 1, 0));
    }

    [Fact]
    public void LateGrowth_TooFewSteps_GivesNoVerdict()
    {
        Assert.Equal(0, GrowthCriterion.LateGrowth(Series((2 * GrowthCriterion.MinimumLateSamples) - 1, step => step * MB)));
    }

    [Fact]
    public void TheilSenSlope_IgnoresAMinorityOfOutliers()
    {
        var points = Enumerable.Range(0, 21).Select(i => ((double)i, (double)(3 * i))).ToList();
        points[5] = (5, 1e9);
        points[17] = (17, -1e9);

        Assert.Equal(3, GrowthCriterion.TheilSenSlope(points));
    }

    private static List<Sample> Series(int steps, Func<int, long> retained) =>
        [.. Enumerable.Range(0, steps + 1).Select(step => new Sample(step, step * 0.1, (50 * MB) + retained(step), []))];
}
