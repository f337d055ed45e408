using SafeMem.Cli.CommandLine;

namespace SafeMem.Cli.Tests.Infrastructure;

/// <summary>One run of the safemem command line, in process, with what it wrote on stdout and stderr.</summary>
/// <param name="ExitCode">The exit code the tool would exit with.</param>
/// <param name="Output">What it wrote on stdout (the report).</param>
/// <param name="Error">What it wrote on stderr (progress and failures).</param>
public sealed record SafeMemRun(int ExitCode, string Output, string Error)
{
    /// <summary>Runs <c>safemem</c> with these arguments.</summary>
    public static async Task<SafeMemRun> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int exitCode = await SafeMemCommandLine.RunAsync(args, output, error);
        return new SafeMemRun(exitCode, output.ToString(), error.ToString());
    }

    /// <summary>Gets the lines written on stderr.</summary>
    public string[] ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <inheritdoc/>
    public override string ToString() => $"exit code {ExitCode}\n--- stdout:\n{Output}\n--- stderr:\n{Error}";
}
