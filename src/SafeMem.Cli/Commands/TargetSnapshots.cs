using SafeMem.Cli.Targets;
using SafeMem.Diagnostics.Heap;

namespace SafeMem.Cli.Commands;

/// <summary>
/// Takes one snapshot of a target through the heap engine and keeps its record: the dump is read, walked once for the
/// rows and the retention groups, and deleted before the next snapshot, so a run never holds more than one dump on
/// disk. Progress goes to stderr.
/// </summary>
/// <remarks>Stateless; one call at a time per target (the engine serializes dumps process-wide anyway).</remarks>
internal static class TargetSnapshots
{
    /// <summary>Snapshots the target and returns the record, with what the dump cost the target.</summary>
    /// <param name="target">The checked target.</param>
    /// <param name="dumpDirectory">Where the target writes the temporary dump.</param>
    /// <param name="label">How progress lines name this snapshot ("snapshot 2 of 3").</param>
    /// <param name="progress">stderr.</param>
    /// <exception cref="CommandFailedException">The target exited, or could not be dumped or read; the message says which.</exception>
    public static TakenSnapshot Take(TargetProcess target, string dumpDirectory, string label, TextWriter progress)
    {
        progress.WriteLine($"safemem: {label}: dumping {target.Display}...");
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        HeapSnapshot snapshot;
        try
        {
            snapshot = HeapSnapshot.TakeFromProcess(target.Id, new HeapSnapshotOptions { DumpDirectory = dumpDirectory });
        }
        catch (HeapSnapshotUnavailableException exception)
        {
            // A process that exits mid-run makes the dump fail in several ways (no port, a broken connection, createdump
            // losing its threads): the process table says which it was.
            throw target.IsRunning()
                ? new CommandFailedException($"{target.Display} could not be inspected: {exception.Reason}", exception)
                : new CommandFailedException($"{target.Display} exited before {label} could be taken", exception);
        }

        HeapSnapshotRecord record;
        TimeSpan pause;
        long dumpBytes;
        using (snapshot)
        {
            pause = snapshot.DumpDuration ?? TimeSpan.Zero;
            dumpBytes = snapshot.DumpBytes;

            // The rows are read; the walk that groups objects by retention path is the long part on a large heap.
            progress.WriteLine(
                $"safemem: {label}: target paused {Units.Seconds(pause)} writing a {Units.Bytes(dumpBytes)} dump; "
                + $"{Units.Count(snapshot.TotalCount)} live objects, {Units.Bytes(snapshot.TotalBytes)}; finding what holds them...");
            record = HeapSnapshotRecord.Create(snapshot, target.Name);
        }

        TimeSpan total = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        progress.WriteLine($"safemem: {label}: read in {Units.Seconds(total - pause)}, dump deleted");
        return new TakenSnapshot(record, pause, dumpBytes, total);
    }
}

/// <summary>A snapshot's record and what taking it cost.</summary>
/// <param name="Record">The rows and retention groups.</param>
/// <param name="Pause">How long the target was suspended while its dump was written.</param>
/// <param name="DumpBytes">The dump's size (disk held until the record was read).</param>
/// <param name="Elapsed">The whole time the snapshot took, reading included.</param>
internal sealed record TakenSnapshot(HeapSnapshotRecord Record, TimeSpan Pause, long DumpBytes, TimeSpan Elapsed);
