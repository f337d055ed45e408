namespace SafeMem.Testing.Tests;

/// <summary>
/// Retained bytes are process-wide, so these tests run alone (no other test allocates meanwhile), and they measure
/// megabytes: the runner's own threads may keep some tens of kilobytes across a measurement, which must stay noise.
/// </summary>
[Collection(nameof(MemoryProbeCollection))]
public sealed class MemoryProbeTests
{
    private static object? s_kept;

    [Fact]
    public void Measure_ActionAllocatesGarbage_CountsAllocationButNoRetention()
    {
        MemoryMeasurement measurement = MemoryProbe.Measure(() => GC.KeepAlive(new byte[8_000_000]));

        Assert.InRange(measurement.AllocatedBytes, 8_000_000, 8_000_000 + 4_096);
        Assert.InRange(measurement.RetainedBytes, -400_000, 400_000);
    }

    [Fact]
    public void Measure_ActionKeepsAnArray_CountsItAsRetained()
    {
        try
        {
            MemoryMeasurement measurement = MemoryProbe.Measure(() => s_kept = new byte[8_000_000]);

            Assert.InRange(measurement.AllocatedBytes, 8_000_000, 8_000_000 + 4_096);
            Assert.InRange(measurement.RetainedBytes, 7_600_000, 8_400_000);
        }
        finally
        {
            s_kept = null;
        }
    }

    [Fact]
    public async Task MeasureAsync_ActionAllocatesAcrossAnAwait_CountsAllThreads()
    {
        MemoryMeasurement measurement = await MemoryProbe.MeasureAsync(async () =>
        {
            await Task.Yield();
            GC.KeepAlive(new byte[200_000]);
        });

        Assert.True(measurement.AllocatedBytes >= 200_000, measurement.ToString());
    }

    [Fact]
    public async Task Measure_NullAction_Throws()
    {
        Assert.Throws<ArgumentNullException>("action", () => MemoryProbe.Measure(null!));
        await Assert.ThrowsAsync<ArgumentNullException>("action", () => MemoryProbe.MeasureAsync(null!));
    }
}

[CollectionDefinition(nameof(MemoryProbeCollection), DisableParallelization = true)]
public sealed class MemoryProbeCollection
{
}
