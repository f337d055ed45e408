using System.Diagnostics;
using System.Globalization;
using SafeMem.Cli.Tests.Infrastructure;

namespace SafeMem.Cli.Tests.Targets;

/// <summary>A target that cannot be inspected: exit code 2 and one line that says why, before any dump is asked for.</summary>
public sealed class TargetProcessTests
{
    [Theory]
    [InlineData("growth")]
    [InlineData("snapshot")]
    public async Task Open_NoSuchProcess_ExitsTwoNamingThePid(string command)
    {
        int pid = await ExitedProcessIdAsync();

        SafeMemRun run = await RunAsync(command, pid);

        Assert.Equal(2, run.ExitCode);
        Assert.Equal([$"safemem: no process with id {pid} is running"], run.ErrorLines);
        Assert.Empty(run.Output);
    }

    // With a stale socket: a .NET process killed without cleanup leaves its diagnostics socket, and a later process given
    // the same pid (any program) must not look like .NET because of it. Seen in a full test run on a machine that had
    // run thousands of processes: the tool went on to dump `sleep`.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Open_NotADotNetProcess_ExitsTwoSayingSo(bool staleSocketOfItsPid)
    {
        if (staleSocketOfItsPid && !OperatingSystem.IsLinux())
        {
            return; // the start time in a socket's name is checked on Linux only
        }

        using Process sleep = Process.Start("sleep", "60");
        string stale = Path.Combine(Path.GetTempPath(), $"dotnet-diagnostic-{sleep.Id.ToString(CultureInfo.InvariantCulture)}-1-socket");
        if (staleSocketOfItsPid)
        {
            File.WriteAllBytes(stale, []);
        }

        try
        {
            SafeMemRun run = await RunAsync("growth", sleep.Id);

            Assert.Equal(2, run.ExitCode);
            Assert.Equal([$"safemem: process {sleep.Id} (sleep) is not a .NET process (no .NET runtime is loaded in it)"], run.ErrorLines);
        }
        finally
        {
            sleep.Kill();
            if (staleSocketOfItsPid)
            {
                File.Delete(stale);
            }
        }
    }

    [Fact]
    public async Task Open_DiagnosticsTurnedOff_ExitsTwoNamingTheVariable()
    {
        using TargetProgram target = await TargetProgram.StartAsync("idle", environment: new Dictionary<string, string> { ["DOTNET_EnableDiagnostics"] = "0" });

        SafeMemRun run = await RunAsync("growth", target.Id);

        Assert.Equal(2, run.ExitCode);
        Assert.Single(run.ErrorLines);
        Assert.Matches($@"^safemem: process {target.Id} \(.+\) has no diagnostics port: it was started with DOTNET_EnableDiagnostics=0$", run.ErrorLines[0]);
    }

    [Fact]
    public async Task Open_MissingDumpDirectory_ExitsTwoNamingIt()
    {
        using TargetProgram target = await TargetProgram.StartAsync("idle");
        string missing = Path.Combine(Path.GetTempPath(), "safemem-missing-" + Guid.NewGuid().ToString("N"));

        SafeMemRun run = await SafeMemRun.RunAsync("growth", "--pid", Pid(target.Id), "--dump-dir", missing);

        Assert.Equal(2, run.ExitCode);
        Assert.Equal([$"safemem: the dump directory {missing} does not exist"], run.ErrorLines);
    }

    private static Task<SafeMemRun> RunAsync(string command, int pid)
        => command == "snapshot"
            ? SafeMemRun.RunAsync("snapshot", "--pid", Pid(pid), "-o", Path.Combine(Path.GetTempPath(), $"safemem-never-{Guid.NewGuid():N}.snapshot"))
            : SafeMemRun.RunAsync(command, "--pid", Pid(pid), "--interval", "1");

    private static string Pid(int pid) => pid.ToString(CultureInfo.InvariantCulture);

    /// <summary>The id of a process that ran and exited (and was reaped), so no process has it for now.</summary>
    private static async Task<int> ExitedProcessIdAsync()
    {
        using Process process = Process.Start("true");
        await process.WaitForExitAsync();
        return process.Id;
    }
}
