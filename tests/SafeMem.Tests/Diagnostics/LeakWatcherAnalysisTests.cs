using System.Runtime.InteropServices;
using SafeMem.Diagnostics;

namespace SafeMem.Tests.Diagnostics;

/// <summary>
/// What <see cref="LeakWatcher.AnalyzeAsync"/> does around its explainer: finding it, leasing the handles, grouping the
/// traces, and every way an explanation can fail. The explainer here reads the real objects behind the handles it is
/// given and names them; the heap package's tests run the real one.
/// </summary>
public sealed class LeakWatcherAnalysisTests
{
    private const string PayloadType = "SafeMem.Tests.Diagnostics.WatcherHarness.Payload";

    [Fact]
    public async Task AnalyzeAsync_WithoutTheHeapPackage_SaysWhichPackageToReference()
    {
        // A process without SafeMem.Diagnostics.Heap: the lookup by name finds nothing.
        using var watcher = new LeakWatcher("no-explainer", new LeakWatcherOptions(), fallbackMeterFactory: null, findExplainer: static () => null);

        InvalidOperationException missing = await Assert.ThrowsAsync<InvalidOperationException>(() => watcher.AnalyzeAsync());

        Assert.Contains("add a reference to the SafeMem.Diagnostics.Heap package", missing.Message, StringComparison.Ordinal);
        Assert.Contains("LeakWatcherOptions.Explainer", missing.Message, StringComparison.Ordinal);
        Assert.Equal(0, watcher.GetStatistics().Analyses);
    }

    [Fact]
    public void AutomaticAnalysis_WithoutTheHeapPackage_FailsAtConstruction()
    {
        InvalidOperationException missing = Assert.Throws<InvalidOperationException>(
            () => new LeakWatcher(null, new LeakWatcherOptions { AutomaticAnalysis = true }, fallbackMeterFactory: null, findExplainer: static () => null));

        Assert.Contains("SafeMem.Diagnostics.Heap", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Discovery_FindsTheHeapPackagesExplainerByName()
    {
        // This test assembly has SafeMem.Diagnostics.Heap beside it (through SafeMem.Testing), as an application that
        // references the package has: the core finds its explainer without referencing it.
        ILeakExplainer? found = ExplainerDiscovery.Find();

        Assert.NotNull(found);
        Assert.Equal("SafeMem.Diagnostics.Heap.HeapLeakExplainer", found.GetType().FullName);
        Assert.Equal("SafeMem.Diagnostics.Heap", found.GetType().Assembly.GetName().Name);
        Assert.DoesNotContain(typeof(LeakWatcher).Assembly.GetReferencedAssemblies(), a => a.Name == "SafeMem.Diagnostics.Heap");
    }

    [Fact]
    public async Task AnalyzeAsync_NothingRetained_IsEmptyAndDumpsNothing()
    {
        var explainer = new NamingExplainer();
        using var watcher = new LeakWatcher(new LeakWatcherOptions { Name = "empty", Explainer = explainer });

        LeakAnalysis analysis = await watcher.AnalyzeAsync();

        Assert.Empty(analysis.Leaks);
        Assert.Equal(0, analysis.RetainedCount);
        Assert.Equal(0, explainer.Calls);
        Assert.StartsWith("LeakWatcher 'empty': 0 retained objects in 0 groups", analysis.ToString(), StringComparison.Ordinal);
        Assert.Equal(1, watcher.GetStatistics().Analyses);
    }

    [Fact]
    public async Task AnalyzeAsync_OneThousandInstancesOfOneLeak_AreOneGroup()
    {
        var explainer = new NamingExplainer();
        using var watcher = new LeakWatcher(new LeakWatcherOptions { Name = "grouping", Explainer = explainer, DumpDirectory = "/dumps", MaximumRetained = 2_000 });
        var orders = new List<object>();
        var sessions = new List<object>();
        for (int i = 0; i < 1_000; i++)
        {
            explainer.Roots[WatcherHarness.WatchAndHoldObject(watcher, orders, i % 10 == 0 ? "order (retried)" : "order")] = ("static field App.s_orders", $"List<Payload>._items", $"Payload[][{i}]");
        }

        for (int i = 0; i < 3; i++)
        {
            explainer.Roots[WatcherHarness.WatchAndHoldObject(watcher, sessions, "session")] = ("local variable in App.Run() (thread 12)", "Session._payload", null);
        }

        Assert.True(WatcherHarness.CollectUntil(watcher, s => s.Retained == 1_003));
        LeakAnalysis analysis = await watcher.AnalyzeAsync();

        Assert.Equal(2, analysis.Leaks.Count);
        Assert.Equal(1_003, analysis.RetainedCount);
        Assert.Equal("/dumps", explainer.LastRequest!.DumpDirectory);
        LeakGroup orderLeak = analysis.Leaks[0];
        Assert.Equal((1_000, PayloadType), (orderLeak.Count, orderLeak.TypeName));
        Assert.Equal("static field App.s_orders -> List<Payload>._items -> Payload[][] -> Payload", orderLeak.Signature);
        Assert.Equal(["order", "order (retried)"], orderLeak.Descriptions);
        Assert.Equal("static field App.s_orders", orderLeak.Root);
        // The path of one instance, with its own index (which one comes first depends on the table's stripes).
        Assert.Equal(4, orderLeak.Path.Count);
        Assert.Equal(["static field App.s_orders", "  -> List<Payload>._items"], orderLeak.Path.Take(2));
        Assert.Matches(@"^  -> Payload\[\]\[\d+\]$", orderLeak.Path[2]);
        Assert.Equal("  -> Payload", orderLeak.Path[3]);
        Assert.Equal(1_000 * 32L, orderLeak.RetainedBytes);
        LeakGroup sessionLeak = analysis.Leaks[1];
        Assert.Equal("local variable in App.Run() -> Session._payload -> Payload", sessionLeak.Signature);
        Assert.Equal(3, sessionLeak.Count);

        string report = analysis.ToString();
        Assert.StartsWith("LeakWatcher 'grouping': 1,003 retained objects in 2 groups (analyzed at ", report, StringComparison.Ordinal);
        Assert.Contains("#1  1,000 x " + PayloadType + " (keeping 32,000 bytes alive)", report, StringComparison.Ordinal);
        Assert.Contains("\n  retention path (of the first):\n    static field App.s_orders\n      -> List<Payload>._items", report, StringComparison.Ordinal);
        Assert.Contains("#2  3 x " + PayloadType, report, StringComparison.Ordinal);
        Assert.Contains("\nNot fully inspected:\n  - a note from the explainer", report, StringComparison.Ordinal);
        GC.KeepAlive(orders);
        GC.KeepAlive(sessions);
    }

    [Fact]
    public async Task AnalyzeAsync_ObjectDeadInTheHeap_CountsAsCollectedMeanwhile()
    {
        var explainer = new NamingExplainer { Dead = 1 };
        using var watcher = new LeakWatcher(new LeakWatcherOptions { Name = "meanwhile", Explainer = explainer });
        var holder = new List<object>();
        WatcherHarness.WatchAndHold(watcher, holder);
        WatcherHarness.WatchAndHold(watcher, holder);
        Assert.True(WatcherHarness.CollectUntil(watcher, s => s.Retained == 2));

        LeakAnalysis analysis = await watcher.AnalyzeAsync();

        Assert.Equal((1, 1), (analysis.RetainedCount, analysis.CollectedMeanwhile));
        Assert.Contains("1 more were collected before the heap was read", analysis.ToString(), StringComparison.Ordinal);
        GC.KeepAlive(holder);
    }

    [Fact]
    public async Task AnalyzeAsync_HeapUnavailable_GroupsByTypeAndSaysWhy()
    {
        var explainer = new NamingExplainer { Unavailable = "the dump directory '/readonly' is read-only" };
        using var watcher = new LeakWatcher(new LeakWatcherOptions { Name = "unavailable", Explainer = explainer });
        var holder = new List<object>();
        WatcherHarness.WatchAndHold(watcher, holder, "a");
        WatcherHarness.WatchAndHold(watcher, holder, "b");
        Assert.True(WatcherHarness.CollectUntil(watcher, s => s.Retained == 2));

        LeakAnalysis analysis = await watcher.AnalyzeAsync();

        LeakGroup group = Assert.Single(analysis.Leaks);
        Assert.Equal((2, (string?)null, "(no known path) -> " + PayloadType), (group.Count, group.Root, group.Signature));
        Assert.Empty(group.Path);
        Assert.Equal("the dump directory '/readonly' is read-only", analysis.UnavailableReason);
        Assert.Contains("The retention paths are unavailable: the dump directory '/readonly' is read-only.", analysis.ToString(), StringComparison.Ordinal);
        GC.KeepAlive(holder);
    }

    [Fact]
    public async Task AnalyzeAsync_ExplainerThrowsOrMiscounts_IsAResultNotAnException()
    {
        var holder = new List<object>();
        foreach (NamingExplainer explainer in new[] { new NamingExplainer { Throw = true }, new NamingExplainer { Miscount = true } })
        {
            using var watcher = new LeakWatcher(new LeakWatcherOptions { Explainer = explainer });
            WatcherHarness.WatchAndHold(watcher, holder);
            Assert.True(WatcherHarness.CollectUntil(watcher, s => s.Retained == 1));

            LeakAnalysis analysis = await watcher.AnalyzeAsync();

            Assert.Equal(1, Assert.Single(analysis.Leaks).Count);
            Assert.Contains(explainer.Throw ? "failed (IOException: No space left on device)" : "returned 2 traces for 1 objects", analysis.UnavailableReason, StringComparison.Ordinal);
        }

        GC.KeepAlive(holder);
    }

    [Fact]
    public async Task Dispose_WhileAnAnalysisRuns_EndsItWithoutWaitingAndKeepsItsHandlesValid()
    {
        var explainer = new NamingExplainer { WaitForCancellation = true };
        var watcher = new LeakWatcher(new LeakWatcherOptions { Name = "disposed-during", Explainer = explainer });
        var holder = new List<object>();
        WatcherHarness.WatchAndHold(watcher, holder);
        Assert.True(WatcherHarness.CollectUntil(watcher, s => s.Retained == 1));
        Task<LeakAnalysis> analysis = watcher.AnalyzeAsync();
        Assert.True(explainer.Started.Wait(TimeSpan.FromSeconds(20)));

        watcher.Dispose();

        ObjectDisposedException disposed = await Assert.ThrowsAsync<ObjectDisposedException>(() => analysis.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains("while an analysis ran", disposed.Message, StringComparison.Ordinal);

        // The explainer read its handles after the cancellation: they still led to the object it was asked about.
        Assert.Same(holder[0], Assert.Single(explainer.TargetsSeenAfterCancellation));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => watcher.AnalyzeAsync());
    }

    [Fact]
    public async Task AnalyzeAsync_Cancelled_ThrowsOperationCanceled()
    {
        var explainer = new NamingExplainer { WaitForCancellation = true };
        using var watcher = new LeakWatcher(new LeakWatcherOptions { Explainer = explainer });
        var holder = new List<object>();
        WatcherHarness.WatchAndHold(watcher, holder);
        Assert.True(WatcherHarness.CollectUntil(watcher, s => s.Retained == 1));
        using var cancel = new CancellationTokenSource();

        Task<LeakAnalysis> analysis = watcher.AnalyzeAsync(cancel.Token);
        Assert.True(explainer.Started.Wait(TimeSpan.FromSeconds(20)));
        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => analysis.WaitAsync(TimeSpan.FromSeconds(20)));
        explainer.WaitForCancellation = false;
        Assert.Equal(1, (await watcher.AnalyzeAsync()).RetainedCount);
        GC.KeepAlive(holder);
    }

    [Fact]
    public async Task AnalyzeAsync_ConcurrentCalls_RunOneAtATime()
    {
        var explainer = new NamingExplainer { Delay = TimeSpan.FromMilliseconds(50) };
        using var watcher = new LeakWatcher(new LeakWatcherOptions { Explainer = explainer });
        var holder = new List<object>();
        WatcherHarness.WatchAndHold(watcher, holder);
        Assert.True(WatcherHarness.CollectUntil(watcher, s => s.Retained == 1));

        LeakAnalysis[] analyses = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => watcher.AnalyzeAsync())));

        Assert.All(analyses, a => Assert.Equal(1, a.RetainedCount));
        Assert.Equal((4, 1), (explainer.Calls, explainer.MaximumConcurrency));
        GC.KeepAlive(holder);
    }

    [Fact]
    public void AutomaticAnalysis_RunsOnceTheThresholdIsReached_AtMostOncePerInterval()
    {
        var explainer = new NamingExplainer();
        using var watcher = new LeakWatcher(new LeakWatcherOptions
        {
            Name = "automatic",
            Explainer = explainer,
            AutomaticAnalysis = true,
            AnalysisThreshold = 2,
            MinimumAnalysisInterval = TimeSpan.FromHours(1),
        });
        var completed = new List<LeakAnalysis>();
        watcher.AnalysisCompleted += (_, analysis) =>
        {
            lock (completed)
            {
                completed.Add(analysis);
            }
        };
        watcher.AnalysisCompleted += (_, _) => throw new InvalidOperationException("handler bug");
        var holder = new List<object>();

        WatcherHarness.WatchAndHold(watcher, holder);
        Assert.True(WatcherHarness.CollectUntil(watcher, s => s.Retained == 1));
        WatcherHarness.FullCollection(watcher);
        Assert.Equal(0, explainer.Calls); // one retained object: under the threshold

        WatcherHarness.WatchAndHold(watcher, holder);
        Assert.True(WatcherHarness.CollectUntil(watcher, s => s.Retained == 2));
        WatcherHarness.WaitFor(() => watcher.GetStatistics().Failures == 1, "the automatic analysis and its handlers");
        WatcherHarness.WatchAndHold(watcher, holder);
        Assert.True(WatcherHarness.CollectUntil(watcher, s => s.Retained == 3));

        lock (completed)
        {
            Assert.Equal(2, Assert.Single(completed).RetainedCount);
        }

        Assert.Equal(1, explainer.Calls); // the third retention came within the interval
        GC.KeepAlive(holder);
    }

    [Fact]
    public void Options_AllTogether_EachKeepsItsMeaning()
    {
        // Every option at once: one induced collection is enough to judge, two of three retained objects are kept, the
        // automatic analysis explains those two once, with the dump directory, on the given meter.
        var explainer = new NamingExplainer();
        using var factory = new Infrastructure.TestMeterFactory();
        using var recorder = new Infrastructure.MetricRecorder(SafeMem.Telemetry.SafeMemMeter.Resolve(factory));
        using var watcher = new LeakWatcher(new LeakWatcherOptions
        {
            Name = "everything",
            RetainedAfterCollections = 1,
            MaximumRetained = 2,
            InducedCollectionInterval = TimeSpan.FromMilliseconds(100),
            Explainer = explainer,
            DumpDirectory = "/dumps",
            AutomaticAnalysis = true,
            AnalysisThreshold = 2,
            MinimumAnalysisInterval = TimeSpan.FromHours(1),
            MeterFactory = factory,
        });
        var completed = new List<LeakAnalysis>();
        watcher.AnalysisCompleted += (_, analysis) =>
        {
            lock (completed)
            {
                completed.Add(analysis);
            }
        };
        var holder = new List<object>();
        for (int i = 0; i < 3; i++)
        {
            WatcherHarness.WatchAndHold(watcher, holder);
        }

        // No collection from the test: the watcher's timer induces them.
        WatcherHarness.WaitFor(() => { lock (completed) { return completed.Count == 1; } }, "the automatic analysis after induced collections");

        LeakWatcherStatistics statistics = watcher.GetStatistics();
        Assert.Equal((3, 2, 1), (statistics.Retained, statistics.RetainedAlive, statistics.RetainedBeyondLimit));
        Assert.Equal(2, completed[0].RetainedCount);
        Assert.Equal("/dumps", explainer.LastRequest!.DumpDirectory);
        Assert.Equal(1, explainer.Calls);
        Assert.Equal(3, recorder.ObserveValue("safemem.watcher.retentions", "everything", (SafeMem.Telemetry.SafeMemTags.WatcherObjectType, PayloadType)));
        Assert.Equal(1, recorder.ObserveValue("safemem.watcher.analyses", "everything"));
        GC.KeepAlive(holder);
    }

    /// <summary>
    /// Reads the objects behind the handles it is given (proving they are the watched ones) and names a root for each
    /// from <see cref="Roots"/>, with a signature as the heap engine would give; can also fail in each way an explainer can.
    /// </summary>
    private sealed class NamingExplainer : ILeakExplainer
    {
        private int _running;

        public Dictionary<object, (string Root, string Reference, string? Index)> Roots { get; } = new(ReferenceEqualityComparer.Instance);

        public int Dead { get; init; }

        public string? Unavailable { get; init; }

        public bool Throw { get; init; }

        public bool Miscount { get; init; }

        public bool WaitForCancellation { get; set; }

        public TimeSpan Delay { get; init; }

        public ManualResetEventSlim Started { get; } = new();

        public List<object?> TargetsSeenAfterCancellation { get; } = [];

        public int Calls;

        public int MaximumConcurrency;

        public LeakExplanationRequest? LastRequest { get; private set; }

        public async Task<LeakExplanation> ExplainAsync(LeakExplanationRequest request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Calls);
            int running = Interlocked.Increment(ref _running);
            MaximumConcurrency = Math.Max(MaximumConcurrency, running);
            LastRequest = request;
            Started.Set();
            try
            {
                if (WaitForCancellation)
                {
                    try
                    {
                        await Task.Delay(Timeout.Infinite, cancellationToken);
                    }
                    catch (OperationCanceledException)
                    {
                        TargetsSeenAfterCancellation.AddRange(request.WeakHandles.Select(h => GCHandle.FromIntPtr(h).Target));
                        throw;
                    }
                }

                await Task.Delay(Delay, cancellationToken);
                if (Throw)
                {
                    throw new IOException("No space left on device");
                }

                if (Unavailable is not null)
                {
                    return LeakExplanation.Unavailable(request.WeakHandles.Count, Unavailable);
                }

                var traces = new List<RetentionTrace?>();
                for (int i = 0; i < request.WeakHandles.Count; i++)
                {
                    object? target = GCHandle.FromIntPtr(request.WeakHandles[i]).Target;
                    if (target is null || i < Dead)
                    {
                        traces.Add(null);
                        continue;
                    }

                    (string root, string reference, string? index) = Roots.TryGetValue(target, out var known) ? known : ("GC handle (Strong)", "Holder._item", null);
                    string[] references = index is null ? [reference] : [reference, index];
                    // As the heap engine does: the signature leaves out indexes and thread ids.
                    string signature = string.Join(" -> ", [root.Replace(" (thread 12)", string.Empty, StringComparison.Ordinal), reference, .. index is null ? Array.Empty<string>() : ["Payload[][]"], target.GetType().Name]);
                    traces.Add(new RetentionTrace(root, references, target.GetType().Name) { RetainedBytes = 32, Signature = signature });
                }

                if (Miscount)
                {
                    traces.Add(null);
                }

                return new LeakExplanation { Traces = traces, Notes = ["a note from the explainer"] };
            }
            finally
            {
                Interlocked.Decrement(ref _running);
            }
        }
    }
}
