using System.Globalization;
using System.Text.Json;
using SafeMem.Cli.Tests.Infrastructure;

namespace SafeMem.Cli.Tests.Commands;

/// <summary>
/// <c>safemem growth</c> against real processes started for the test (SafeMem.Cli.TestTarget): leaks are found and
/// named with their holder, a cache that fills and then stays flat and an idle process are not growth, and a target
/// that exits mid-run ends the run with one line. Short intervals keep each run to seconds.
/// </summary>
public sealed class GrowthCommandTests
{
    [Fact]
    public async Task Growth_StaticListLeak_NamesTheTypeAndTheStaticField()
    {
        using TargetProgram target = await TargetProgram.StartAsync("static-list");

        SafeMemRun run = await SafeMemRun.RunAsync("growth", "--pid", Pid(target), "--interval", "1", "--snapshots", "3");

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("  SafeMem.Cli.TestTarget.Order: +", run.Output);
        Assert.Contains("static field SafeMem.Cli.TestTarget.OrderBook.s_history\n        -> List<Order>._items\n        -> Order[][", run.Output);
        Assert.Contains("medium confidence", run.Output);

        // The target never loaded a SafeMem assembly: the tool needs nothing of SafeMem in the process it inspects.
        Assert.False(target.HasMapped("SafeMem.dll"), "the static-list target loaded SafeMem.dll");
        Assert.Contains($"safemem: snapshot 3 of 3: dumping process {target.Id}", run.Error);
    }

    [Fact]
    public async Task Growth_StaticEventOfClosedWindows_NamesTheEventField_Json()
    {
        using TargetProgram target = await TargetProgram.StartAsync("static-event");

        SafeMemRun run = await SafeMemRun.RunAsync("growth", "--pid", Pid(target), "--interval", "1", "--snapshots", "3", "--format", "json");

        Assert.True(run.ExitCode == 1, run.ToString());
        using JsonDocument report = JsonDocument.Parse(run.Output);
        JsonElement root = report.RootElement;
        Assert.Equal("growth", root.GetProperty("command").GetString());
        Assert.Equal(target.Id, root.GetProperty("target").GetProperty("pid").GetInt32());
        Assert.True(root.GetProperty("grew").GetBoolean());
        Assert.Equal(3, root.GetProperty("snapshots").GetArrayLength());
        Assert.True(root.GetProperty("snapshots")[0].GetProperty("pauseSeconds").GetDouble() > 0);

        JsonElement window = root.GetProperty("growing").EnumerateArray().Single(t => t.GetProperty("type").GetString() == "SafeMem.Cli.TestTarget.Window");
        long[] counts = [.. window.GetProperty("counts").EnumerateArray().Select(c => c.GetInt64())];
        Assert.True(counts[0] < counts[1] && counts[1] < counts[2], string.Join(" -> ", counts));
        JsonElement path = window.GetProperty("retentionPath");
        Assert.Equal("StaticField", path.GetProperty("rootKind").GetString());
        Assert.Equal("static field SafeMem.Cli.TestTarget.Theme.Changed", path.GetProperty("root").GetString());
        Assert.Contains("EventHandler._target (handler Window.OnThemeChanged)", path.GetProperty("hops").EnumerateArray().Select(h => h.GetString()));
        Assert.False(target.HasMapped("SafeMem.dll"), "the static-event target loaded SafeMem.dll");
    }

    [Fact]
    public async Task Growth_BoundedCacheFillingThenFlat_IsNotGrowth()
    {
        using TargetProgram target = await TargetProgram.StartAsync("bounded-cache");

        // The cache takes 1,000 pages a second up to its 1,000 entries: full within the first interval, then flat.
        SafeMemRun run = await SafeMemRun.RunAsync("growth", "--pid", Pid(target), "--interval", "1.5", "--snapshots", "3", "--format", "json");

        Assert.True(run.ExitCode == 0, run.ToString());
        using JsonDocument report = JsonDocument.Parse(run.Output);
        Assert.False(report.RootElement.GetProperty("grew").GetBoolean());
        Assert.Empty(report.RootElement.GetProperty("growing").EnumerateArray());

        // The pages are there, as many as the bound, in every snapshot after the first.
        Assert.True(target.HasMapped("SafeMem.dll"));
    }

    [Fact]
    public async Task Growth_IdleProcess_ReportsNothing()
    {
        using TargetProgram target = await TargetProgram.StartAsync("idle");

        // Three snapshots, the default: the runtime's own warm-up (a thread-pool thread or two) rises once and stops.
        SafeMemRun run = await SafeMemRun.RunAsync("growth", "--pid", Pid(target), "--interval", "0.5");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("Nothing grew: no type's live instance count rose across every interval (2 intervals).", run.Output);
        Assert.StartsWith($"safemem growth: process {target.Id} (SafeMem.Cli.TestTarget), 3 snapshots over ", run.Output);
    }

    [Fact]
    public async Task Growth_TargetExitsDuringTheRun_ExitsTwoWithOneLine()
    {
        using TargetProgram target = await TargetProgram.StartAsync("static-list", exitAfter: TimeSpan.FromSeconds(1));

        SafeMemRun run = await SafeMemRun.RunAsync("growth", "--pid", Pid(target), "--interval", "3", "--snapshots", "3");

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Empty(run.Output);
        string failure = Assert.Single(run.ErrorLines, l => !l.StartsWith("safemem: snapshot", StringComparison.Ordinal) && !l.Contains(" snapshots of ", StringComparison.Ordinal));
        Assert.Equal($"safemem: process {target.Id} (SafeMem.Cli.TestTarget) exited after 1 of 3 snapshots", failure);
    }

    private static string Pid(TargetProgram target) => target.Id.ToString(CultureInfo.InvariantCulture);
}
