using Microsoft.Extensions.DependencyInjection;
using SafeMem.Caching;
using SafeMem.Diagnostics.Heap;

namespace SafeMem.Testing.Tests;

[CollectionDefinition(nameof(NoGrowthTests), DisableParallelization = true)]
public sealed class NoGrowthCollection
{
}

/// <summary>
/// LeakAssert.NoGrowth on each classic leak (one object left per run), each then fixed and shown to pass; warm-up that
/// must pass; a slow leak; the async form; bad input. Alone in its collection: NoGrowth counts every type process-wide,
/// so parallel tests' allocations would be growth too.
/// </summary>
[Collection(nameof(NoGrowthTests))]
public sealed class NoGrowthTests
{
    // Few runs per stretch: the runs are cheap, the three snapshots per assertion are what costs.
    private static readonly NoGrowthOptions s_quick = new() { Iterations = 20, WarmupIterations = 20 };

    private static readonly List<OrderContext> s_contexts = [];
    private static readonly BoundedCache<int, CacheValue> s_cache = new(new BoundedCacheOptions<int, CacheValue> { MaximumCount = 30 });
    private static readonly Lazy<LazySingleton> s_singleton = new(() => new LazySingleton());

    private static event EventHandler? MessageReceived;

    [Fact]
    public void NoGrowth_StaticListKeepsOneObjectPerRun_FailsWithTypeAndHolder_FixedPasses()
    {
        try
        {
            LeakException failure = Assert.Throws<LeakException>(() => LeakAssert.NoGrowth(() => s_contexts.Add(new OrderContext()), s_quick));

            Assert.Equal("SafeMem.Testing.Tests.OrderContext", failure.TypeName);
            Assert.StartsWith("The heap grew with the runs: ", failure.Message, StringComparison.Ordinal);
            Assert.Contains("+1 instance and +", failure.Message, StringComparison.Ordinal);
            Assert.Contains(" B per run (+60 instances, ", failure.Message, StringComparison.Ordinal);
            Assert.Contains("SafeMem.Testing.Tests.OrderContext (20 -> 40 -> 80)", failure.Message, StringComparison.Ordinal);
            Assert.Contains("over 2 stretches of 20, 40 runs (60 runs after 20 warm-up runs;", failure.Message, StringComparison.Ordinal);
            RetentionPath path = Assert.Single(failure.RetentionPaths, p => p.Target == "OrderContext");
            Assert.Equal("static field SafeMem.Testing.Tests.NoGrowthTests.s_contexts", path.Root);
            Assert.Contains("Retention path of a new SafeMem.Testing.Tests.OrderContext:\n  static field SafeMem.Testing.Tests.NoGrowthTests.s_contexts", failure.Message, StringComparison.Ordinal);
            HeapTypeGrowth growth = Assert.IsType<HeapGrowthReport>(failure.Growth).Growing[0];
            Assert.Equal(1.0, growth.CountPerWork);
            Assert.Equal(HeapGrowthConfidence.Medium, growth.Confidence);
        }
        finally
        {
            s_contexts.Clear();
        }

        // Fixed: the context leaves the list when its message is handled.
        LeakAssert.NoGrowth(
            () =>
            {
                var context = new OrderContext();
                s_contexts.Add(context);
                s_contexts.Remove(context);
            },
            s_quick);
    }

    [Fact]
    public void NoGrowth_StaticEventSubscriptionPerRun_FailsWithTheEvent_FixedPasses()
    {
        try
        {
            LeakException failure = Assert.Throws<LeakException>(() => LeakAssert.NoGrowth(() => new MessageHandler().Attach(), s_quick));

            Assert.Contains(failure.Growth!.Growing, t => t.TypeName == "SafeMem.Testing.Tests.NoGrowthTests.MessageHandler");
            RetentionPath path = Assert.Single(failure.RetentionPaths, p => p.Target == "NoGrowthTests.MessageHandler");
            Assert.Equal("static field SafeMem.Testing.Tests.NoGrowthTests.MessageReceived (event)", path.Root);
            Assert.Contains(path.Hops, hop => hop.Contains("._target (handler NoGrowthTests.MessageHandler.OnMessage)", StringComparison.Ordinal));
        }
        finally
        {
            MessageReceived = null;
        }

        LeakAssert.NoGrowth(
            () =>
            {
                var handler = new MessageHandler();
                handler.Attach();
                handler.Detach();
            },
            s_quick);
        MessageReceived?.Invoke(null, EventArgs.Empty);
    }

    [Fact]
    public void NoGrowth_TimerStartedPerRunAndNeverDisposed_FailsWithTheTimerQueue_FixedPasses()
    {
        var timers = new List<Timer>();
        try
        {
            LeakException failure = Assert.Throws<LeakException>(() => LeakAssert.NoGrowth(() => StartTimer(), s_quick));

            Assert.Contains(failure.Growth!.Growing, t => t.TypeName == "SafeMem.Testing.Tests.TimerState");
            // Held by the timer queue: from its static root, or (the shortest way on .NET 8) along its list of timers.
            Assert.Contains(failure.RetentionPaths, p => p.Root == "static field System.Threading.TimerQueue.Instances" || p.Hops.Any(h => h.StartsWith("TimerQueueTimer.", StringComparison.Ordinal)));
        }
        finally
        {
            // The leaked timers re-arm themselves an hour from now; nothing references them but the timer queue.
            GC.KeepAlive(timers);
        }

        // Fixed: the timer is disposed when the run is done with it.
        LeakAssert.NoGrowth(() => StartTimer().Dispose(), s_quick);
    }

    [Fact]
    public void NoGrowth_TransientDisposableResolvedFromTheRootContainer_FailsWithTheContainer_FixedPasses()
    {
        using ServiceProvider container = new ServiceCollection().AddTransient<ConnectionLease>().BuildServiceProvider();

        // The captive: a disposable transient resolved from the root provider is kept until the container is disposed.
        LeakException failure = Assert.Throws<LeakException>(() => LeakAssert.NoGrowth(() => container.GetRequiredService<ConnectionLease>().Use(), s_quick));

        Assert.Equal("SafeMem.Testing.Tests.ConnectionLease", failure.Growth!.Growing.Single(t => t.TypeName.EndsWith("ConnectionLease", StringComparison.Ordinal)).TypeName);
        RetentionPath path = Assert.Single(failure.RetentionPaths, p => p.Target == "ConnectionLease");
        Assert.Contains(path.Hops, hop => hop.Contains("_disposables", StringComparison.Ordinal));

        // Fixed: each run resolves in a scope of its own and disposes it.
        LeakAssert.NoGrowth(
            () =>
            {
                using IServiceScope scope = container.CreateScope();
                scope.ServiceProvider.GetRequiredService<ConnectionLease>().Use();
            },
            s_quick);
    }

    [Fact]
    public void NoGrowth_WarmUpThatStops_Passes()
    {
        // Everything allocated is released; a bounded cache fills during the first runs and then stays at its bound;
        // a lazily created singleton appears once.
        int run = 0;
        LeakAssert.NoGrowth(
            () =>
            {
                var scratch = new List<OrderContext> { new(), new() };
                GC.KeepAlive(scratch);
                s_cache.GetOrAdd(run++ % 45, static _ => new CacheValue());
                GC.KeepAlive(s_singleton.Value);
            },
            new NoGrowthOptions { Iterations = 20, WarmupIterations = 5 });

        Assert.Equal(30, s_cache.Count);
    }

    [Fact]
    public void NoGrowth_SlowLeakOfOneObjectEveryTenRuns_FailsWithTheDefaultRuns()
    {
        int run = 0;
        try
        {
            LeakException failure = Assert.Throws<LeakException>(() => LeakAssert.NoGrowth(() =>
            {
                if (++run % 10 == 0)
                {
                    s_contexts.Add(new OrderContext());
                }
            }));

            HeapTypeGrowth growth = failure.Growth!.Growing.Single(t => t.TypeName == "SafeMem.Testing.Tests.OrderContext");
            Assert.Equal(0.1, growth.CountPerWork, precision: 6);
            Assert.Equal([5L, 10, 20], growth.Counts);
            Assert.Contains("+0.1 instances and ", failure.Message, StringComparison.Ordinal);
        }
        finally
        {
            s_contexts.Clear();
        }
    }

    [Fact]
    public void NoGrowth_OneStrayInstancePerStretch_Passes_TwoFail()
    {
        // In step with the runs but a single instance per stretch of 20 (1, then 2): what a new thread's pooled buffer
        // looks like, not growth. Twice that pace (2, then 4) is.
        int run = 0;
        try
        {
            LeakAssert.NoGrowth(() => { if (++run % 20 == 0) { s_contexts.Add(new OrderContext()); } }, s_quick);

            Assert.Equal(4, s_contexts.Count);
            s_contexts.Clear();
            run = 0;
            LeakException failure = Assert.Throws<LeakException>(() => LeakAssert.NoGrowth(() => { if (++run % 10 == 0) { s_contexts.Add(new OrderContext()); } }, s_quick));
            Assert.Equal([2L, 4, 8], failure.Growth!.Growing.Single(t => t.TypeName == "SafeMem.Testing.Tests.OrderContext").Counts);
        }
        finally
        {
            s_contexts.Clear();
        }
    }

    [Fact]
    public async Task NoGrowthAsync_OperationThatAwaitsAndLeaks_Fails_FixedPasses()
    {
        var options = new NoGrowthOptions { Iterations = 10, WarmupIterations = 5 };
        try
        {
            LeakException failure = await Assert.ThrowsAsync<LeakException>(() => LeakAssert.NoGrowthAsync(
                async () =>
                {
                    await Task.Delay(1);
                    s_contexts.Add(new OrderContext());
                    await Task.Yield();
                },
                options));

            Assert.True(failure.TypeName == "SafeMem.Testing.Tests.OrderContext", failure.Message);
            Assert.Contains(failure.RetentionPaths, p => p.Root == "static field SafeMem.Testing.Tests.NoGrowthTests.s_contexts");
        }
        finally
        {
            s_contexts.Clear();
        }

        await LeakAssert.NoGrowthAsync(
            async () =>
            {
                var context = new OrderContext();
                s_contexts.Add(context);
                await Task.Delay(1);
                s_contexts.Remove(context);
            },
            options);
    }

    [Fact]
    public async Task NoGrowth_BadInput_ThrowsClearExceptions()
    {
        Assert.Throws<ArgumentNullException>("operation", () => LeakAssert.NoGrowth(null!));
        Assert.Throws<ArgumentNullException>("operation", () => LeakAssert.NoGrowth(null!, new NoGrowthOptions()));
        Assert.Throws<ArgumentNullException>("options", () => LeakAssert.NoGrowth(() => { }, null!));
        await Assert.ThrowsAsync<ArgumentNullException>("operation", () => LeakAssert.NoGrowthAsync(null!));
        Assert.Throws<ArgumentOutOfRangeException>("value", () => new NoGrowthOptions { Iterations = 0 });
        Assert.Throws<ArgumentOutOfRangeException>("value", () => new NoGrowthOptions { Iterations = -1 });
        Assert.Throws<ArgumentOutOfRangeException>("value", () => new NoGrowthOptions { WarmupIterations = -1 });
        Assert.Throws<ArgumentOutOfRangeException>("value", () => new NoGrowthOptions { Stretches = 0 });
        Assert.Throws<ArgumentOutOfRangeException>("value", () => new NoGrowthOptions { Stretches = 11 });
        Assert.Throws<ArgumentOutOfRangeException>("value", () => new NoGrowthOptions { MaxPaths = -1 });
        Assert.Throws<ArgumentException>("value", () => new NoGrowthOptions { DumpDirectory = "" });
    }

    [Fact]
    public async Task NoGrowth_OperationThrows_PropagatesAndLeavesNoDumpBehind()
    {
        string directory = Directory.CreateTempSubdirectory("safemem-nogrowth-").FullName;
        try
        {
            int run = 0;
            var options = new NoGrowthOptions { Iterations = 5, WarmupIterations = 2, DumpDirectory = directory };

            // It throws after the first snapshot was taken, in the first stretch.
            var thrown = Assert.Throws<FormatException>(() => LeakAssert.NoGrowth(() => { if (++run == 4) { throw new FormatException("bad message"); } }, options));
            var asyncThrown = await Assert.ThrowsAsync<FormatException>(() => LeakAssert.NoGrowthAsync(() => throw new FormatException("bad async message"), options));

            Assert.Equal("bad message", thrown.Message);
            Assert.Equal("bad async message", asyncThrown.Message);
            Assert.Empty(Directory.EnumerateFileSystemEntries(directory));
            await Assert.ThrowsAsync<InvalidOperationException>(() => LeakAssert.NoGrowthAsync(() => null!, options));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void NoGrowth_ProcessCannotDumpItself_ThrowsUnavailableWithTheReason()
    {
        string missing = Path.Combine(Path.GetTempPath(), "safemem-missing-" + Guid.NewGuid().ToString("N"));

        HeapSnapshotUnavailableException failure = Assert.Throws<HeapSnapshotUnavailableException>(
            () => LeakAssert.NoGrowth(() => { }, new NoGrowthOptions { Iterations = 1, WarmupIterations = 0, DumpDirectory = missing }));

        Assert.Contains("does not exist", failure.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void NoGrowth_OperationRemovesTheDumpDirectory_ThrowsUnavailableAndReleasesItsSnapshots()
    {
        string directory = Directory.CreateTempSubdirectory("safemem-nogrowth-").FullName;
        try
        {
            // The operation takes away what the heap reader needs between two snapshots.
            HeapSnapshotUnavailableException failure = Assert.Throws<HeapSnapshotUnavailableException>(() => LeakAssert.NoGrowth(
                () =>
                {
                    if (Directory.Exists(directory))
                    {
                        Directory.Delete(directory, recursive: true);
                    }
                },
                new NoGrowthOptions { Iterations = 1, WarmupIterations = 0, DumpDirectory = directory }));

            Assert.Contains(directory, failure.Reason, StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    private static Timer StartTimer()
    {
        var state = new TimerState();
        Timer? started = null;

        // The callback captures the timer to re-arm it: the timer queue reaches the timer, so it is never finalized.
        started = new Timer(_ => { state.Ticks++; started!.Change(3_600_000, Timeout.Infinite); }, null, 3_600_000, Timeout.Infinite);
        return started;
    }

    private sealed class MessageHandler
    {
        public int Received { get; private set; }

        public void Attach() => MessageReceived += OnMessage;

        public void Detach() => MessageReceived -= OnMessage;

        private void OnMessage(object? sender, EventArgs e) => Received++;
    }
}

public sealed class OrderContext
{
    public long OrderId { get; set; }
}

public sealed class ConnectionLease : IDisposable
{
    public int Uses { get; private set; }

    public void Use() => Uses++;

    public void Dispose() => Uses = -1;
}

public sealed class CacheValue
{
    public long Value { get; set; }
}

public sealed class LazySingleton
{
}
