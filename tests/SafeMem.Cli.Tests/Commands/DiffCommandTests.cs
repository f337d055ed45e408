using System.Globalization;
using SafeMem.Cli.Tests.Infrastructure;

namespace SafeMem.Cli.Tests.Commands;

/// <summary>
/// <c>safemem snapshot</c> then <c>safemem diff</c>: the same verdict through files, which hold no data of the
/// process; files that cannot be compared are bad input.
/// </summary>
public sealed class DiffCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("safemem-diff-").FullName;

    [Fact]
    public async Task SnapshotThenDiff_StaticListLeak_NamesTheTypeAndTheStaticField()
    {
        string before = Path.Combine(_folder, "before.safemem");
        string after = Path.Combine(_folder, "after.safemem");
        using (TargetProgram target = await TargetProgram.StartAsync("static-list"))
        {
            SafeMemRun first = await SafeMemRun.RunAsync("snapshot", "--pid", Pid(target), "-o", before);
            Assert.True(first.ExitCode == 0, first.ToString());
            Assert.StartsWith($"{before}: process {target.Id} (SafeMem.Cli.TestTarget) at ", first.Output);
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            SafeMemRun second = await SafeMemRun.RunAsync("snapshot", "--pid", Pid(target), "-o", after);
            Assert.True(second.ExitCode == 0, second.ToString());
        }

        // The target is gone: the files are all diff needs.
        SafeMemRun diff = await SafeMemRun.RunAsync("diff", before, after);

        Assert.True(diff.ExitCode == 1, diff.ToString());
        Assert.StartsWith("safemem diff: process ", diff.Output);
        Assert.Contains("  SafeMem.Cli.TestTarget.Order: +", diff.Output);
        Assert.Contains("static field SafeMem.Cli.TestTarget.OrderBook.s_history\n        -> List<Order>._items\n        -> Order[][", diff.Output);
        Assert.Contains("low confidence", diff.Output);

        // No data of the process: the orders' field values are not in the file (its strings are names, counts aside).
        Assert.True(new FileInfo(after).Length < 64 * 1024);
    }

    [Fact]
    public async Task Diff_NotASnapshotFile_ExitsTwoNamingTheFile()
    {
        string notes = Path.Combine(_folder, "notes.txt");
        await File.WriteAllTextAsync(notes, "not a snapshot");

        SafeMemRun run = await SafeMemRun.RunAsync("diff", notes, notes);

        Assert.Equal(2, run.ExitCode);
        Assert.Equal([$"safemem: {notes}: not a SafeMem heap snapshot file"], run.ErrorLines);
    }

    [Fact]
    public async Task Diff_MissingFile_ExitsTwoNamingTheFile()
    {
        string missing = Path.Combine(_folder, "missing.safemem");

        SafeMemRun run = await SafeMemRun.RunAsync("diff", missing, missing);

        Assert.Equal(2, run.ExitCode);
        Assert.Single(run.ErrorLines);
        Assert.StartsWith($"safemem: {missing} cannot be read: ", run.ErrorLines[0]);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static string Pid(TargetProgram target) => target.Id.ToString(CultureInfo.InvariantCulture);
}
