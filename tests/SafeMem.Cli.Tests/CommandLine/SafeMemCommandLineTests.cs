using System.Diagnostics;
using SafeMem.Cli.Tests.Infrastructure;

namespace SafeMem.Cli.Tests.CommandLine;

public sealed class SafeMemCommandLineTests
{
    [Theory]
    [InlineData(new[] { "growth" }, "safemem: Option '--pid' is required ('safemem growth --help' lists the options)")]
    [InlineData(new[] { "growth", "--pid", "abc" }, "safemem: --pid takes a positive process id, not 'abc' ('safemem growth --help' lists the options)")]
    [InlineData(new[] { "growth", "--pid", "0" }, "safemem: --pid takes a positive process id, not '0' ('safemem growth --help' lists the options)")]
    [InlineData(new[] { "growth", "--pid", "-5" }, "safemem: --pid takes a positive process id, not '-5' ('safemem growth --help' lists the options)")]
    [InlineData(new[] { "growth", "--pid", "1", "--interval", "0" }, "safemem: --interval takes a positive number of seconds, not '0' ('safemem growth --help' lists the options)")]
    [InlineData(new[] { "growth", "--pid", "1", "--snapshots", "1" }, "safemem: --snapshots takes a whole number of at least 2, not '1' ('safemem growth --help' lists the options)")]
    [InlineData(new[] { "growth", "--pid", "1", "--top", "0" }, "safemem: --top takes a whole number of at least 1, not '0' ('safemem growth --help' lists the options)")]
    [InlineData(new[] { "growth", "--pid", "1", "--format", "xml" }, "safemem: --format takes text or json, not 'xml' ('safemem growth --help' lists the options)")]
    [InlineData(new[] { "snapshot", "--pid", "1" }, "safemem: Option '--output' is required ('safemem snapshot --help' lists the options)")]
    [InlineData(new[] { "diff", "one.safemem" }, "safemem: Required argument missing for command: 'diff' ('safemem diff --help' lists the options)")]
    [InlineData(new string[0], "safemem: name a command: growth, snapshot or diff ('safemem --help' lists the options)")]
    [InlineData(new[] { "grow" }, "safemem: Unrecognized command or argument 'grow' ('safemem --help' lists the options)")]
    public async Task RunAsync_BadInput_ExitsTwoWithOneLine(string[] args, string expected)
    {
        SafeMemRun run = await SafeMemRun.RunAsync(args);

        Assert.Equal(SafeMem.Cli.ExitCodes.Failed, run.ExitCode);
        Assert.Equal([expected], run.ErrorLines);
        Assert.Empty(run.Output);
    }

    [Fact]
    public async Task RunAsync_Help_ListsEveryCommandOnStdout()
    {
        SafeMemRun run = await SafeMemRun.RunAsync("--help");

        Assert.Equal(SafeMem.Cli.ExitCodes.Clean, run.ExitCode);
        Assert.Contains("safemem [command] [options]", run.Output);
        Assert.Contains("  growth", run.Output);
        Assert.Contains("  snapshot", run.Output);
        Assert.Contains("  diff <before> <after>", run.Output);
        Assert.Empty(run.Error);
    }

    [Theory]
    [InlineData("snapshot")]
    [InlineData("diff")]
    public async Task RunAsync_HelpOfSnapshotFileCommands_SaysWhatTheFileHolds(string command)
    {
        SafeMemRun run = await SafeMemRun.RunAsync(command, "--help");

        Assert.Equal(SafeMem.Cli.ExitCodes.Clean, run.ExitCode);
        Assert.Contains("no field values, no string contents", string.Join(' ', run.Output.Split(default(char[]), StringSplitOptions.RemoveEmptyEntries)));
    }

    [Fact]
    public async Task RunAsync_GrowthHelp_GivesDefaultsAndExitCodes()
    {
        SafeMemRun run = await SafeMemRun.RunAsync("growth", "--help");

        Assert.Equal(SafeMem.Cli.ExitCodes.Clean, run.ExitCode);
        Assert.Contains("[default: 30]", run.Output);
        Assert.Contains("[default: 3]", run.Output);
        Assert.Contains("[default: text]", run.Output);
        Assert.Contains("Exit code 0: nothing grew; 1: something grew; 2: bad input", run.Output);
    }

    [Fact]
    public async Task Executable_BadInput_ExitsTwoWithOneLineOnStderr()
    {
        // The real program, as a shell runs it: the exit code is the process's.
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "SafeMem.Cli.dll"));
        start.ArgumentList.Add("growth");
        start.ArgumentList.Add("--pid");
        start.ArgumentList.Add("abc");
        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(timeout.Token);

        Assert.Equal(2, process.ExitCode);
        Assert.Equal("safemem: --pid takes a positive process id, not 'abc' ('safemem growth --help' lists the options)\n", await errors);
        Assert.Empty(await output);
    }
}
