using SafeMem.Cli.Reports;
using SafeMem.Diagnostics.Heap;

namespace SafeMem.Cli.Commands;

/// <summary>
/// <c>safemem diff</c>: snapshot files of one process, judged as <c>growth</c> judges its snapshots (the same analysis,
/// on the same records).
/// </summary>
/// <remarks>Stateless. A file that is not a snapshot, or files of two processes or out of order, are bad input (exit 2).</remarks>
internal static class DiffCommand
{
    public static Task<int> RunAsync(DiffSettings settings, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var records = new List<HeapSnapshotRecord>(settings.Files.Count);
        foreach (string file in settings.Files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                records.Add(HeapSnapshotRecord.Load(file));
            }
            catch (InvalidDataException exception)
            {
                throw new CommandFailedException($"{file}: {exception.Message}", exception);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                throw new CommandFailedException($"{file} cannot be read: {exception.Message}", exception);
            }
        }

        for (int i = 1; i < records.Count; i++)
        {
            HeapSnapshotRecord first = records[0];
            HeapSnapshotRecord other = records[i];
            if (other.ProcessId != first.ProcessId || other.ProcessName != first.ProcessName)
            {
                throw new CommandFailedException(
                    $"{settings.Files[0]} is of process {first.ProcessId} ({first.ProcessName}) and {settings.Files[i]} of process {other.ProcessId} ({other.ProcessName}): diff compares snapshots of one process");
            }

            if (other.TakenAt <= records[i - 1].TakenAt)
            {
                throw new CommandFailedException(
                    $"{settings.Files[i]} was taken at {other.TakenAt:yyyy-MM-dd HH:mm:ss}Z, not after {settings.Files[i - 1]} ({records[i - 1].TakenAt:yyyy-MM-dd HH:mm:ss}Z): give the files oldest first");
            }
        }

        error.WriteLine($"safemem: comparing {records.Count} snapshots of process {records[0].ProcessId} ({records[0].ProcessName})");
        HeapGrowthReport report = GrowthAnalysis.Analyze(records, settings.Top);
        var view = new GrowthReportView("diff", records[0].ProcessId, records[0].ProcessName, records, costs: null, report, settings.Top);
        view.Write(output, settings.Format);
        return Task.FromResult(report.HasGrowth ? ExitCodes.Grew : ExitCodes.Clean);
    }
}
