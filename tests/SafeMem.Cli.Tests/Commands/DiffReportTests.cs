using System.Text.Json;
using SafeMem.Cli.Tests.Infrastructure;
using SafeMem.Diagnostics.Heap;

namespace SafeMem.Cli.Tests.Commands;

/// <summary>
/// <c>safemem diff</c> on snapshot files written here from known records: the report's exact text and json, the
/// growth rule as the tool applies it (seconds the target ran), and files that cannot be compared. No process needed.
/// </summary>
public sealed class DiffReportTests : IDisposable
{
    private static readonly DateTimeOffset s_start = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
    private readonly string _folder = Directory.CreateTempSubdirectory("safemem-report-").FullName;

    [Fact]
    public async Task Diff_GrowingListAndFillingCache_ReportsTheListAsGrowthAndTheCacheAsWarmUp()
    {
        string[] files =
        [
            Write("a", Record(0, orders: 100, pages: 400)),
            Write("b", Record(30, orders: 1100, pages: 1000)),
            Write("c", Record(60, orders: 2100, pages: 1000)),
        ];

        SafeMemRun run = await SafeMemRun.RunAsync(["diff", .. files]);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Equal(
            """
            safemem diff: process 42 (OrderService), 3 snapshots over 60.0 s (2026-12-07 12:00:00Z to 12:01:00Z)
              live objects: 900 -> 2,500 -> 3,500; bytes: 37.5 KB -> 96.9 KB -> 128 KB

            1 type grew across every interval, most first; medium confidence: rising at a steady pace over 2 intervals:

              MyApp.Order: +2,000 instances (+2,000/min), +62.5 KB (+62.5 KB/min)
                instances  100 -> 1,100 -> 2,100
                bytes      3.13 KB -> 34.4 KB -> 65.6 KB
                a new instance is held by:
                  static field MyApp.OrderBook.s_history
                    -> List<Order>._items
                    -> Order[][2099]
                    -> Order

            Warm-up, not growth (rose, then stopped or slowed): 1 type, e.g. MyApp.Page 400 -> 1,000 -> 1,000

            Not fully inspected:
              - stack locals: may be missing

            """.Replace("\r\n", "\n", StringComparison.Ordinal),
            run.Output);
        Assert.Equal(["safemem: comparing 3 snapshots of process 42 (OrderService)"], run.ErrorLines);
    }

    [Fact]
    public async Task Diff_Json_GivesCountsRatesAndPath()
    {
        string[] files = [Write("a", Record(0, 100, 1000)), Write("b", Record(30, 1100, 1000)), Write("c", Record(60, 2100, 1000))];

        SafeMemRun run = await SafeMemRun.RunAsync(["diff", .. files, "--format", "json"]);

        Assert.True(run.ExitCode == 1, run.ToString());
        using JsonDocument json = JsonDocument.Parse(run.Output);
        JsonElement root = json.RootElement;
        Assert.Equal("diff", root.GetProperty("command").GetString());
        Assert.Equal("medium", root.GetProperty("confidence").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("snapshots")[0].GetProperty("pauseSeconds").ValueKind);
        JsonElement orders = Assert.Single(root.GetProperty("growing").EnumerateArray());
        Assert.Equal("MyApp.Order", orders.GetProperty("type").GetString());
        Assert.Equal([100L, 1100L, 2100L], orders.GetProperty("counts").EnumerateArray().Select(c => c.GetInt64()));
        Assert.Equal(2000, orders.GetProperty("countPerMinute").GetDouble());
        Assert.Equal("static field MyApp.OrderBook.s_history", orders.GetProperty("retentionPath").GetProperty("root").GetString());
    }

    [Fact]
    public async Task Diff_SteadyLeakWithALongPause_IsGrowthCountingOnlyTheSecondsTheTargetRan()
    {
        // 100 orders a second while the target runs. The second snapshot suspended it for 12 s: counted by the clock,
        // the second interval (20 s for 800 orders, 40 a second) would look like a leak slowing down, i.e. warm-up.
        string[] files =
        [
            Write("a", Record(0, orders: 0, pages: 0)),
            Write("b", Record(10, orders: 1000, pages: 0, pause: TimeSpan.FromSeconds(12))),
            Write("c", Record(30, orders: 1800, pages: 0)),
        ];

        SafeMemRun run = await SafeMemRun.RunAsync(["diff", .. files]);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("  MyApp.Order: +1,800 instances (+6,000/min)", run.Output);
    }

    [Fact]
    public async Task Diff_TwoFiles_IsLowConfidence()
    {
        string[] files = [Write("a", Record(0, 100, 0)), Write("b", Record(30, 1100, 0))];

        SafeMemRun run = await SafeMemRun.RunAsync(["diff", .. files]);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("low confidence: one interval cannot tell growth from warm-up that is not over (take 3 snapshots or more)", run.Output);
    }

    [Fact]
    public async Task Diff_NothingRose_ExitsZero()
    {
        string[] files = [Write("a", Record(0, 100, 10)), Write("b", Record(30, 100, 10)), Write("c", Record(60, 90, 10))];

        SafeMemRun run = await SafeMemRun.RunAsync(["diff", .. files]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("\nNothing grew: no type's live instance count rose across every interval (2 intervals).\n", run.Output);
    }

    [Fact]
    public async Task Diff_FilesOfTwoProcesses_ExitsTwo()
    {
        string mine = Write("a", Record(0, 100, 0));
        string theirs = Write("b", Record(30, 200, 0, pid: 43));

        SafeMemRun run = await SafeMemRun.RunAsync("diff", mine, theirs);

        Assert.Equal(2, run.ExitCode);
        Assert.Equal([$"safemem: {mine} is of process 42 (OrderService) and {theirs} of process 43 (OrderService): diff compares snapshots of one process"], run.ErrorLines);
        Assert.Empty(run.Output);
    }

    [Fact]
    public async Task Diff_FilesOutOfOrder_ExitsTwo()
    {
        string later = Write("a", Record(30, 200, 0));
        string earlier = Write("b", Record(0, 100, 0));

        SafeMemRun run = await SafeMemRun.RunAsync("diff", later, earlier);

        Assert.Equal(2, run.ExitCode);
        Assert.Equal([$"safemem: {earlier} was taken at 2026-12-07 12:00:00Z, not after {later} (2026-12-07 12:00:30Z): give the files oldest first"], run.ErrorLines);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static HeapSnapshotRecord Record(int seconds, long orders, long pages, TimeSpan pause = default, int pid = 42)
    {
        var rows = new List<HeapTypeSummary> { new("System.String", 400, 16_000, 0x10) };
        var groups = new List<HeapRetentionGroup>();
        if (orders > 0)
        {
            rows.Add(new HeapTypeSummary("MyApp.Order", orders, 32 * orders, 0x20));
            groups.Add(new HeapRetentionGroup("MyApp.Order", 0x20, orders, 32 * orders, new RetentionPath(
                RetentionRootKind.StaticField, "static field MyApp.OrderBook.s_history", ["List<Order>._items", $"Order[][{orders - 1}]"], "Order")));
        }

        if (pages > 0)
        {
            rows.Add(new HeapTypeSummary("MyApp.Page", pages, 48 * pages, 0x30));
        }

        return new HeapSnapshotRecord(pid, "OrderService", s_start.AddSeconds(seconds), rows, groups, ["stack locals: may be missing"], pause);
    }

    private string Write(string name, HeapSnapshotRecord record)
    {
        string path = Path.Combine(_folder, name + ".safemem");
        record.Save(path);
        return path;
    }
}
