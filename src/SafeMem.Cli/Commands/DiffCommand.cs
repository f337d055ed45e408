namespace SafeMem.Cli.Commands;

internal static class DiffCommand
{
    public static Task<int> RunAsync(DiffSettings settings, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        _ = output;
        _ = error;
        _ = cancellationToken;
        return Task.FromResult(settings.Files.Count);
    }
}
