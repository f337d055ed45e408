namespace SafeMem.Cli.Commands;

internal static class SnapshotCommand
{
    public static Task<int> RunAsync(SnapshotSettings settings, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        _ = output;
        _ = error;
        _ = cancellationToken;
        SafeMem.Cli.Targets.TargetProcess.Open(settings.Pid, settings.DumpDirectory);
        return Task.FromResult(ExitCodes.Clean);
    }
}
