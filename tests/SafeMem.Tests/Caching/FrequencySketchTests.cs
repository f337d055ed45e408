using SafeMem.Caching;

namespace SafeMem.Tests.Caching;

public sealed class FrequencySketchTests
{
    [Fact]
    public void Frequency_NeverBelowTrueCountUpTo15()
    {
        var sketch = new FrequencySketch(seed: 7, sampleEntries: 1_000_000);
        sketch.EnsureCapacity(512);
        var counts = new Dictionary<int, int>();
        var random = new Random(3);
        for (int i = 0; i < 3_000; i++)
        {
            int key = random.Next(600);
            sketch.Increment(key);
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }

        // Count-min: collisions only add, so an estimate is at least the true count (saturating at 15).
        Assert.All(counts, pair => Assert.True(sketch.Frequency(pair.Key) >= Math.Min(15, pair.Value), $"key {pair.Key}"));
        int exact = counts.Count(pair => sketch.Frequency(pair.Key) == Math.Min(15, pair.Value));
        Assert.True(exact > counts.Count / 2, $"only {exact} of {counts.Count} estimates are exact");
        Assert.Equal(0, sketch.Frequency(100_000));
    }

    [Fact]
    public void Increment_SaturatesAt15()
    {
        var sketch = new FrequencySketch(seed: 1, sampleEntries: 1_000);
        for (int i = 0; i < 40; i++)
        {
            sketch.Increment(42);
        }

        Assert.Equal(15, sketch.Frequency(42));
    }

    [Fact]
    public void Increment_SampleFull_HalvesEveryCounter()
    {
        var sketch = new FrequencySketch(seed: 5, sampleEntries: 10);
        for (int i = 0; i < 9; i++)
        {
            sketch.Increment(1);
        }

        Assert.Equal(9, sketch.Frequency(1));
        for (int i = 0; i < 91; i++)
        {
            sketch.Increment(1_000 + i);
        }

        // The 100th counting increment (sample size 10 x 10) halved everything: old popularity fades.
        Assert.True(sketch.Frequency(1) <= 4, $"frequency {sketch.Frequency(1)} after halving");
        Assert.True(sketch.Sample < 100);
    }

    [Fact]
    public void Advance_CountsTowardTheAgingPeriodWithoutCounting()
    {
        var sketch = new FrequencySketch(seed: 5, sampleEntries: 10);
        for (int i = 0; i < 9; i++)
        {
            sketch.Increment(1);
        }

        sketch.Advance(50);
        Assert.Equal(9, sketch.Frequency(1));
        Assert.Equal(0, sketch.Frequency(2));
        Assert.Equal(59, sketch.Sample);

        // The period (10 x 10) fills: every counter is halved, as 41 more increments would have done.
        sketch.Advance(41);
        Assert.Equal(4, sketch.Frequency(1));
        Assert.True(sketch.Sample < 100);
    }

    [Fact]
    public void EnsureCapacity_Doubling_KeepsEveryEstimate()
    {
        var sketch = new FrequencySketch(seed: 11, sampleEntries: 1_000_000);
        var random = new Random(9);
        for (int i = 0; i < 500; i++)
        {
            sketch.Increment(random.Next(200));
        }

        int[] before = Enumerable.Range(0, 300).Select(sketch.Frequency).ToArray();
        sketch.EnsureCapacity(1_000);

        Assert.Equal(4_096, sketch.Length);
        Assert.Equal(before, Enumerable.Range(0, 300).Select(sketch.Frequency).ToArray());
    }

    [Theory]
    [InlineData(null, 16)]
    [InlineData(3, 16)]
    [InlineData(50, 256)]
    [InlineData(1_000, 4_096)]
    [InlineData(4_096, 16_384)]
    [InlineData(1_000_000, 16_384)]
    public void Constructor_CountBound_SizesTheFirstTableUpTo16384Words(int? expectedEntries, int length)
    {
        var sketch = new FrequencySketch(seed: 3, sampleEntries: expectedEntries, expectedEntries: expectedEntries);

        // Four words per entry the cache may hold (a power of two), from 16 words to 128 KB; beyond that it grows with use.
        Assert.Equal(length, sketch.Length);
    }

    [Theory]
    [InlineData(100, 512)]
    [InlineData(4_096, 16_384)]
    [InlineData(10_000, 16_384)]
    [InlineData(20_000, 32_768)]
    public void EnsureCapacity_FourWordsPerEntryUpTo16384Words_ThenOne(long entries, int length)
    {
        var sketch = new FrequencySketch(seed: 3);

        sketch.EnsureCapacity(entries);

        Assert.Equal(length, sketch.Length);
    }

    [Fact]
    public void SampleSize_WeightBound_FollowsTheMostEntriesHeld()
    {
        var sketch = new FrequencySketch(seed: 3);
        Assert.Equal(160, sketch.SampleSize);

        sketch.EnsureCapacity(100);
        Assert.Equal(1_280, sketch.SampleSize);

        // Fewer entries later (evictions) keep the sample of the most held, as the table keeps its size.
        sketch.EnsureCapacity(20);
        Assert.Equal(1_280, sketch.SampleSize);
        Assert.Equal(512, sketch.Length);
    }

    [Fact]
    public void SampleSize_CountBound_IsTenPerEntryOfTheBound()
    {
        var sketch = new FrequencySketch(seed: 3, sampleEntries: 50, expectedEntries: 50);

        sketch.EnsureCapacity(50);

        Assert.Equal(500, sketch.SampleSize);
    }

    [Fact]
    public void Seed_ChangesPositions()
    {
        var a = new FrequencySketch(seed: 1);
        var b = new FrequencySketch(seed: 2);

        Assert.NotEqual(a.Mix(12345), b.Mix(12345));
    }
}
