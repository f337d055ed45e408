using System.Runtime.CompilerServices;
using Xunit.Abstractions;

namespace SafeMem.Diagnostics.Heap.Tests;

/// <summary>
/// <see cref="LeakWatcher.AnalyzeAsync"/> with the real explainer, found by name as an application that references this
/// package gets it: a dump of this process, paths from the engine, groups by signature. One analysis (one dump) per test.
/// </summary>
public sealed class HeapLeakExplainerTests(ITestOutputHelper output)
{
    private static readonly List<Order> s_orders = [];
    private static event EventHandler? s_priceChanged;

    [Fact]
    public async Task AnalyzeAsync_OneThousandOrdersInAStaticListAndThreeSubscribers_AreTwoGroupsWithTheirPaths()
    {
        using var watcher = new LeakWatcher(new LeakWatcherOptions { Name = "orders", MaximumRetained = 2_000 });
        try
        {
            PlantLeaks(watcher);
            await RetainAsync(watcher, 1_003);
            s_priceChanged?.Invoke(null, EventArgs.Empty); // the subscribers are live handlers, as in a running app

            LeakAnalysis analysis = await watcher.AnalyzeAsync();
            output.WriteLine(analysis.ToString());

            Assert.Equal(2, analysis.Leaks.Count);
            LeakGroup orders = analysis.Leaks[0];
            Assert.Equal((1_000, "SafeMem.Diagnostics.Heap.Tests.HeapLeakExplainerTests.Order"), (orders.Count, orders.TypeName));
            Assert.Equal("static field SafeMem.Diagnostics.Heap.Tests.HeapLeakExplainerTests.s_orders", orders.Root);
            Assert.Equal("List<HeapLeakExplainerTests.Order>._items", orders.References[0]);
            Assert.Matches(@"^HeapLeakExplainerTests\.Order\[\]\[\d+\]$", orders.References[1]);
            Assert.Equal(["order placed", "order cancelled"], orders.Descriptions);
            LeakGroup sessions = analysis.Leaks[1];
            Assert.Equal(3, sessions.Count);
            Assert.Contains("s_priceChanged", sessions.Root, StringComparison.Ordinal);
            Assert.Contains(sessions.References, hop => hop.Contains("handler HeapLeakExplainerTests.Session.OnPriceChanged", StringComparison.Ordinal));
            Assert.Equal((1_003, 0), (analysis.RetainedCount, analysis.CollectedMeanwhile));
            Assert.True(analysis.DumpBytes > 10_000_000, $"dump of {analysis.DumpBytes} bytes");
            Assert.True(analysis.Pause > TimeSpan.Zero);
            Assert.Null(analysis.UnavailableReason);

            string report = analysis.ToString();
            Assert.StartsWith("LeakWatcher 'orders': 1,003 retained objects in 2 groups", report, StringComparison.Ordinal);
            Assert.Contains("#1  1,000 x SafeMem.Diagnostics.Heap.Tests.HeapLeakExplainerTests.Order", report, StringComparison.Ordinal);
            Assert.Contains("\n    static field SafeMem.Diagnostics.Heap.Tests.HeapLeakExplainerTests.s_orders\n      -> List<HeapLeakExplainerTests.Order>._items", report, StringComparison.Ordinal);
        }
        finally
        {
            s_orders.Clear();
            s_priceChanged = null;
        }
    }

    [Fact]
    public async Task AnalyzeAsync_ProcessCannotWriteItsDump_GroupsByTypeAndSaysWhy()
    {
        var held = new List<object>();
        foreach (string directory in new[] { "/no/such/directory", "/proc" })
        {
            using var watcher = new LeakWatcher(new LeakWatcherOptions { DumpDirectory = directory });
            held.Add(WatchAndHold(watcher, held));
            await RetainAsync(watcher, 1);

            LeakAnalysis analysis = await watcher.AnalyzeAsync();

            Assert.NotNull(analysis.UnavailableReason);
            Assert.Contains(directory == "/proc" ? "createdump failed" : "does not exist", analysis.UnavailableReason, StringComparison.Ordinal);
            LeakGroup group = Assert.Single(analysis.Leaks);
            Assert.Equal((1, (string?)null), (group.Count, group.Root));
            Assert.Contains("The retention paths are unavailable: ", analysis.ToString(), StringComparison.Ordinal);
        }

        Assert.Empty(Directory.GetFiles(Path.GetTempPath(), $"safemem-{Environment.ProcessId}-*.dmp"));
    }

    [Fact]
    public async Task Dispose_WhileTheDumpIsWritten_EndsTheAnalysisWithoutAHang()
    {
        var held = new List<object>();
        var started = new TaskCompletionSource();
        var watcher = new LeakWatcher(new LeakWatcherOptions { Name = "disposed-during-dump", Explainer = new Signalling(new HeapLeakExplainer(), started) });
        held.Add(WatchAndHold(watcher, held));
        await RetainAsync(watcher, 1);

        Task<LeakAnalysis> analysis = watcher.AnalyzeAsync();
        await started.Task.WaitAsync(TimeSpan.FromSeconds(60));
        watcher.Dispose();

        // The dump cannot be interrupted; the analysis ends once it is written, as disposed, and Dispose did not wait.
        Assert.False(analysis.IsCompleted);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => analysis.WaitAsync(TimeSpan.FromSeconds(120)));
        GC.KeepAlive(held);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void PlantLeaks(LeakWatcher watcher)
    {
        for (int i = 0; i < 1_000; i++)
        {
            var order = new Order { Id = i };
            s_orders.Add(order); // the bug: a static list of every order ever placed
            watcher.Watch(order, i % 10 == 0 ? "order cancelled" : "order placed");
        }

        for (int i = 0; i < 3; i++)
        {
            var session = new Session();
            s_priceChanged += session.OnPriceChanged; // the bug: closed sessions stay subscribed to a static event
            watcher.Watch(session, "session closed");
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static object WatchAndHold(LeakWatcher watcher, List<object> holder)
    {
        var order = new Order();
        holder.Add(order);
        watcher.Watch(order, "held");
        return order;
    }

    private static async Task RetainAsync(LeakWatcher watcher, long retained)
    {
        DateTime deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (watcher.GetStatistics().Retained < retained)
        {
            Assert.True(DateTime.UtcNow < deadline, $"only {watcher.GetStatistics().Retained} of {retained} retained");
            GC.Collect();
            GC.WaitForPendingFinalizers();
            await Task.Delay(20);
        }
    }

    /// <summary>The real explainer, with a signal when it starts (so the test disposes the watcher mid-dump).</summary>
    private sealed class Signalling(ILeakExplainer inner, TaskCompletionSource started) : ILeakExplainer
    {
        public Task<LeakExplanation> ExplainAsync(LeakExplanationRequest request, CancellationToken cancellationToken)
        {
            started.TrySetResult();
            return inner.ExplainAsync(request, cancellationToken);
        }
    }

    public sealed class Order
    {
        public int Id { get; set; }
    }

    public sealed class Session
    {
        public void OnPriceChanged(object? sender, EventArgs e)
        {
        }
    }
}
