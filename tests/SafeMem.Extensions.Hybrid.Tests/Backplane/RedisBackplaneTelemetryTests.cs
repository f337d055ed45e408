using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Time.Testing;
using SafeMem.Extensions.Backplane;
using SafeMem.Extensions.Caching;
using SafeMem.Extensions.Hybrid.Tests.Caching;
using SafeMem.Telemetry;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Extensions.Hybrid.Tests.Backplane;

/// <summary>
/// The backplane's figures: each message outcome, reconnections, removals by reason, connection and pending changes,
/// the same in the statistics snapshot and on the instruments; and a backplane dropped without disposal is collected
/// while a listener listens (its transport's handlers and its probe timer hold it weakly).
/// </summary>
public sealed class RedisBackplaneTelemetryTests : IDisposable
{
    private const string Messages = "safemem.backplane.messages";
    private const string Reconnections = "safemem.backplane.reconnections";
    private const string Removals = "safemem.backplane.removals";
    private const string Connections = "safemem.backplane.connection.count";
    private const string Pending = "safemem.backplane.pending_change.count";

    private readonly InMemoryBackplaneBus _bus = new();
    private readonly ScriptedDistributedCache _redis = new();
    private readonly FakeTimeProvider _clock = new();
    private readonly TestMeterFactory _meters = new();
    private readonly MetricRecorder _recorder;

    public RedisBackplaneTelemetryTests()
    {
        _recorder = new MetricRecorder(_meters.Create(new MeterOptions(SafeMemMetrics.MeterName) { Version = SafeMemMetrics.MeterVersion }));
    }

    public void Dispose()
    {
        _recorder.Dispose();
        _meters.Dispose();
    }

    [Fact]
    public async Task EveryFigure_IsTheSameInTheSnapshotAndOnTheInstruments()
    {
        using BackplaneTestNode a = Start("tel-a");
        using BackplaneTestNode b = Start("tel-b", o => o.MaximumPendingChanges = 1);

        // Sent and received, and an L1 entry removed by it. B's write-back of "k" (HybridCache's, in the background) and
        // its announcement (the sender's, on the thread pool) must be over before anything else: late, on a busy
        // machine, that announcement would fail once B is cut off below and be the one change B keeps.
        await b.GetAsync("k", "v1");
        await _redis.WaitForKeyAsync("k");
        await WaitUntilAsync(() => b.Backplane.GetStatistics().Sent == 1);
        await a.Cache.RemoveAsync("k");

        // A counts the message sent once its publish is over: B has handled it (B counts the removal last).
        await WaitUntilAsync(() => a.Backplane.GetStatistics().Sent == 1, () => $"a {Describe(a.Backplane.GetStatistics())} b {Describe(b.Backplane.GetStatistics())} bL1 {b.L1.Count}");
        Assert.Equal(1L, b.Backplane.GetStatistics().RemovedByInvalidation);

        // Malformed.
        _bus.Inject(b.Backplane.Channel, [1, 2, 3]);

        // B cut off: its changes fail (one kept; past the limit of 1, the others dropped), it finds itself disconnected,
        // drops its L1 after the trust limit, and on hearing again drops it once more and counts a reconnection. Each
        // step waits for the background work it starts (the sender, HybridCache's write-back), so that the snapshot and
        // the instruments are read while nothing moves.
        b.Transport.IsCutOff = true;
        await b.L2.RemoveAsync("x");
        await WaitUntilAsync(() => b.Backplane.GetStatistics().Failed == 1);
        await b.L2.RemoveAsync("y");
        await WaitUntilAsync(() => b.Backplane.GetStatistics().Dropped == 1);
        await b.GetAsync("z", "v");
        await _redis.WaitForKeyAsync("z");
        await WaitUntilAsync(() => b.Backplane.GetStatistics().Dropped == 2);
        _clock.Advance(TimeSpan.FromSeconds(6));
        b.Tick();
        AssertInstrumentsMatch(b.Backplane.GetStatistics());
        Assert.Equal(0, _recorder.ObserveValue(Connections, "tel-b"));

        b.Transport.IsCutOff = false;
        long sent = b.Backplane.GetStatistics().Sent;
        await b.GetAsync("w", "v");
        await _redis.WaitForKeyAsync("w");
        await WaitUntilAsync(() => b.Backplane.GetStatistics().Sent == sent + 1);
        b.Tick();

        // Recovery announces "x" again, and a clear for the dropped "y" and "z" (with room for one message at a time in
        // the sender's queue, over more than one probe period).
        await WaitUntilAsync(() =>
        {
            b.Tick();
            return b.Backplane.GetStatistics().Sent == sent + 3 && b.Backplane.GetStatistics().PendingChanges == 0;
        });

        RedisBackplaneStatistics statistics = b.Backplane.GetStatistics();
        Assert.Equal(("tel-b", true), (statistics.Name, statistics.IsConnected));
        Assert.Equal((1L, 2L, 1L, 1L), (statistics.Failed, statistics.Dropped, statistics.Malformed, statistics.Reconnections));
        Assert.Equal((1L, 1L, 1L), (statistics.RemovedByInvalidation, statistics.RemovedWhileDisconnected, statistics.RemovedByRecovery));
        AssertInstrumentsMatch(statistics);
        AssertInstrumentsMatch(a.Backplane.GetStatistics());
    }

    [Fact]
    public void UnnamedBackplanes_GetDistinctNames()
    {
        using BackplaneTestNode first = Start(null);
        using BackplaneTestNode second = Start(null);

        Assert.StartsWith("backplane-", first.Backplane.Name, StringComparison.Ordinal);
        Assert.NotEqual(first.Backplane.Name, second.Backplane.Name);
    }

    [Fact]
    public void DroppedBackplane_IsCollected_WhileItsTransportAndAListenerHoldOn()
    {
        var bus = new InMemoryBackplaneBus();
        WeakReference dropped = CreateAndDrop(bus, keepStrongly: null);

        // A probe that is running when the collection starts holds the backplane on its pool thread's stack until it
        // returns (the timer itself holds it weakly): collect again, a little later, before calling it retained. It
        // failed once in a full run with a single collection.
        for (int attempt = 0; attempt < 8 && dropped.IsAlive; attempt++)
        {
            GcCollect();
            if (dropped.IsAlive)
            {
                Thread.Sleep(20 * (attempt + 1));
            }
        }

        Assert.False(dropped.IsAlive, "The transport's handlers and the probe timer must hold the backplane weakly.");
        Assert.DoesNotContain(_recorder.Observe(), m => m.Name == "dropped");

        // The control: a handler that holds the backplane strongly, as the transport's would without the weak
        // reference, keeps it alive.
        var strong = new List<object>();
        WeakReference kept = CreateAndDrop(bus, strong);
        GcCollect();
        Assert.True(kept.IsAlive);
        GC.KeepAlive(strong);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private WeakReference CreateAndDrop(InMemoryBackplaneBus bus, List<object>? keepStrongly)
    {
        using var localCache = new BoundedMemoryCache(new BoundedMemoryCacheOptions { MaximumCount = 10 });
        var backplane = new RedisBackplane(
            new RedisBackplaneOptions
            {
                Name = keepStrongly is null ? "dropped" : "kept",
                MeterFactory = _meters,
                TransportFactory = bus.Connect,
                ProbeInterval = TimeSpan.FromMilliseconds(50), // the probe loop runs, on the real clock
            },
            localCache,
            static () => null,
            static () => null,
            fallbackMeterFactory: null);
        keepStrongly?.Add(new Action<string, byte[]?>(backplane.OnMessage));
        Assert.Contains(_recorder.Observe(), m => m.Name == backplane.Name);
        return new WeakReference(backplane);
    }

    private static void GcCollect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    private BackplaneTestNode Start(string? name, Action<SafeMem.Extensions.Backplane.RedisBackplaneOptions>? configure = null)
        => BackplaneTestNode.Start(_bus, _redis, _clock, name ?? "unnamed", o =>
        {
            o.Name = name;
            o.MeterFactory = _meters;
            configure?.Invoke(o);
        });

    private void AssertInstrumentsMatch(RedisBackplaneStatistics statistics)
    {
        foreach ((string outcome, long expected) in new[]
        {
            ("sent", statistics.Sent), ("failed", statistics.Failed), ("dropped", statistics.Dropped),
            ("received", statistics.Received), ("malformed", statistics.Malformed),
        })
        {
            Assert.Equal(expected, _recorder.ObserveValue(Messages, statistics.Name, (SafeMemTags.BackplaneMessageOutcome, outcome)));
        }

        foreach ((string reason, long expected) in new[]
        {
            ("invalidated", statistics.RemovedByInvalidation), ("recovery", statistics.RemovedByRecovery), ("disconnected", statistics.RemovedWhileDisconnected),
        })
        {
            Assert.Equal(expected, _recorder.ObserveValue(Removals, statistics.Name, (SafeMemTags.BackplaneRemovalReason, reason)));
        }

        Assert.Equal(statistics.Reconnections, _recorder.ObserveValue(Reconnections, statistics.Name));
        Assert.Equal(statistics.IsConnected ? 1 : 0, _recorder.ObserveValue(Connections, statistics.Name));
        Assert.Equal(statistics.PendingChanges, _recorder.ObserveValue(Pending, statistics.Name));
    }

    private static string Describe(RedisBackplaneStatistics s) => $"connected {s.IsConnected} sent {s.Sent} failed {s.Failed} dropped {s.Dropped} received {s.Received} pending {s.PendingChanges}";

    private static async Task WaitUntilAsync(Func<bool> condition, Func<string>? describe = null)
    {
        for (int i = 0; !condition(); i++)
        {
            Assert.True(i < 2_000, "The condition did not hold within 20 s. " + describe?.Invoke());
            await Task.Delay(10);
        }
    }
}
