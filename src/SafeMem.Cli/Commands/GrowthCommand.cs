using SafeMem.Cli.Reports;
using SafeMem.Cli.Targets;
using SafeMem.Diagnostics.Heap;

namespace SafeMem.Cli.Commands;

/// <summary>
/// <c>safemem growth</c>: snapshots of a running process some seconds apart, judged by the engine's growth rule. The
/// same as <c>snapshot</c> taken that many times and <c>diff</c> of the files, without the files.
/// </summary>
/// <remarks>
/// Each snapshot's dump is read into a record and deleted before the next one is taken: a run holds at most one dump
/// on disk. The interval runs from one snapshot's start to the next one's, so the target is looked at on a steady
/// beat whatever a snapshot costs (a snapshot longer than the interval is followed by the next at once). Stateless.
/// </remarks>
internal static class GrowthCommand
{
    public static async Task<int> RunAsync(GrowthSettings settings, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        TargetProcess target = TargetProcess.Open(settings.Pid, settings.DumpDirectory);
        await error.WriteLineAsync(
            $"safemem: {settings.Snapshots} snapshots of {target.Display}, {Units.Seconds(settings.Interval)} apart");
        var taken = new List<TakenSnapshot>(settings.Snapshots);
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        for (int i = 0; i < settings.Snapshots; i++)
        {
            TimeSpan wait = (settings.Interval * i) - System.Diagnostics.Stopwatch.GetElapsedTime(started);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken);
            }

            cancellationToken.ThrowIfCancellationRequested();
            if (i > 0 && !target.IsRunning())
            {
                throw new CommandFailedException($"{target.Display} exited after {i} of {settings.Snapshots} snapshots");
            }

            taken.Add(TargetSnapshots.Take(target, settings.DumpDirectory, $"snapshot {i + 1} of {settings.Snapshots}", error));
        }

        HeapGrowthReport report = GrowthAnalysis.Analyze([.. taken.Select(t => t.Record)], settings.Top);
        var view = new GrowthReportView("growth", target.Id, target.Name, taken.Select(t => t.Record).ToList(), taken, report, settings.Top);
        view.Write(output, settings.Format);
        return report.HasGrowth ? ExitCodes.Grew : ExitCodes.Clean;
    }
}
