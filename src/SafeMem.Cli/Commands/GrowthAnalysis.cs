using SafeMem.Diagnostics.Heap;

namespace SafeMem.Cli.Commands;

/// <summary>
/// The one way <c>growth</c> and <c>diff</c> judge a series of snapshot records: the engine's growth rule (shared with
/// <c>LeakAssert.NoGrowth</c>), with the seconds the target ran between snapshots as the unit of work.
/// </summary>
/// <remarks>Stateless and thread-safe. Paths of new instances come from the records' retention groups.</remarks>
internal static class GrowthAnalysis
{
    /// <summary>Judges the records, oldest first, taken at strictly increasing times.</summary>
    /// <param name="records">Two records or more of one process.</param>
    /// <param name="top">How many of the growing types get a retention path (the engine gives at most 20).</param>
    public static HeapGrowthReport Analyze(IReadOnlyList<HeapSnapshotRecord> records, int top)
    {
        // The unit of work is a second the target ran: the time between two snapshots less the first one's pause,
        // during which the target was suspended writing its dump and could not grow (on a busy machine, seconds).
        var samples = new List<HeapGrowthSample>(records.Count) { new(0, records[0]) };
        double work = 0;
        for (int i = 1; i < records.Count; i++)
        {
            double running = (records[i].TakenAt - records[i - 1].TakenAt - records[i - 1].DumpWriteTime).TotalSeconds;

            // Clocks and pauses are measured apart: never let a stretch vanish (the engine wants work to increase).
            work += Math.Max(running, 0.001);
            samples.Add(new HeapGrowthSample(work, records[i]));
        }

        return HeapGrowthAnalyzer.Analyze(samples, new HeapGrowthOptions { WorkUnit = "second", MaxPathTypes = Math.Min(top, 20) });
    }
}
