using System.Text.Json;
using SafeMem.Cli.CommandLine;
using SafeMem.Cli.Reports;
using SafeMem.Cli.Targets;

namespace SafeMem.Cli.Commands;

/// <summary><c>safemem snapshot</c>: one snapshot of a process, written as a snapshot file for a later <c>safemem diff</c>.</summary>
/// <remarks>Stateless. The file holds the engine's snapshot record (see <c>HeapSnapshotRecord</c>): no data of the process.</remarks>
internal static class SnapshotCommand
{
    public static Task<int> RunAsync(SnapshotSettings settings, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        TargetProcess target = TargetProcess.Open(settings.Pid, settings.DumpDirectory);
        string? folder = Path.GetDirectoryName(settings.OutputFile);
        if (folder is not null && !Directory.Exists(folder))
        {
            throw new CommandFailedException($"the output directory {folder} does not exist");
        }

        TakenSnapshot taken = TargetSnapshots.Take(target, settings.DumpDirectory, "snapshot", error);
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            taken.Record.Save(settings.OutputFile);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new CommandFailedException($"the snapshot file {settings.OutputFile} could not be written: {exception.Message}", exception);
        }

        long fileBytes = new FileInfo(settings.OutputFile).Length;
        if (settings.Format == OutputFormat.Json)
        {
            output.WriteLine(JsonSerializer.Serialize(
                new SnapshotSummary(settings.OutputFile, fileBytes, target.Id, target.Name, taken.Record.TakenAt, taken.Record.TotalCount, taken.Record.TotalBytes, taken.Record.Types.Count, taken.Pause.TotalSeconds, taken.DumpBytes),
                ReportJsonContext.Default.SnapshotSummary));
        }
        else
        {
            output.WriteLine($"{settings.OutputFile}: {target.Display} at {taken.Record.TakenAt:yyyy-MM-dd HH:mm:ss}Z, {Units.Count(taken.Record.TotalCount)} live objects, {Units.Bytes(taken.Record.TotalBytes)} in {Units.Count(taken.Record.Types.Count)} types ({Units.Bytes(fileBytes)} file)");
        }

        return Task.FromResult(ExitCodes.Clean);
    }
}
