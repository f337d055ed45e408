using System.Buffers;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Polly.CircuitBreaker;
using SafeMem.Extensions.Caching;
using SafeMem.Telemetry;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Extensions.Hybrid.Tests.Caching;

/// <summary>
/// <see cref="ResilientDistributedCache"/>'s figures: every finished operation counted under exactly one outcome, the
/// circuit's openings and state, the same in the statistics snapshot and on the instruments, names, the container's
/// meter factory, and a dropped wrapper that is collected while a listener listens.
/// </summary>
public sealed class ResilientDistributedCacheTelemetryTests : IDisposable
{
    private const string Operations = "safemem.distributed_cache.operations";
    private const string Openings = "safemem.distributed_cache.circuit.openings";
    private const string OpenCircuits = "safemem.distributed_cache.open_circuit.count";
    private const string OperationCount = "safemem.distributed_cache.operation.count";
    private const string OperationLimit = "safemem.distributed_cache.operation.limit";

    private static readonly DistributedCacheEntryOptions s_entry = new() { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(1) };

    private readonly FakeTimeProvider _time = new();
    private readonly ScriptedDistributedCache _inner = new();
    private readonly TestMeterFactory _meters = new();
    private readonly MetricRecorder _recorder;

    public ResilientDistributedCacheTelemetryTests()
    {
        _recorder = new MetricRecorder(_meters.Create(new MeterOptions(SafeMemMetrics.MeterName) { Version = SafeMemMetrics.MeterVersion }));
    }

    public void Dispose()
    {
        _recorder.Dispose();
        _meters.Dispose();
    }

    [Fact]
    public async Task EveryOutcome_IsCountedOnce_InTheSnapshotAndOnTheInstrument()
    {
        ResilientDistributedCache cache = Create("l2", o =>
        {
            o.MinimumThroughput = 100;
            o.MaximumOperationsInFlight = 2;
        });

        // Succeeded: a write, a hit and a miss (a miss is an answer, not a failure).
        await cache.SetAsync("k", [1], s_entry);
        Assert.NotNull(await cache.GetAsync("k"));
        Assert.False(await cache.TryGetAsync("missing", new ArrayBufferWriter<byte>()));

        // Failed: the distributed cache throws.
        _inner.Behavior = ScriptedBehavior.Throw;
        await Assert.ThrowsAsync<InvalidOperationException>(() => cache.RemoveAsync("k"));

        // Timed out: abandoned after the timeout.
        _inner.Behavior = ScriptedBehavior.Hang;
        Task<byte[]?> hung = cache.GetAsync("k");
        await _inner.WaitForCallsAsync(5);
        _time.Advance(TimeSpan.FromMilliseconds(50));
        await Assert.ThrowsAsync<TimeoutException>(() => hung);

        // Cancelled by the caller.
        using (var cancellation = new CancellationTokenSource())
        {
            Task<byte[]?> cancelled = cache.GetAsync("k", cancellation.Token);
            await _inner.WaitForCallsAsync(6);

            // Throttled: the abandoned read and this one are in flight, the limit is 2.
            await Assert.ThrowsAsync<DistributedCacheThrottledException>(() => cache.GetAsync("over"));
            Assert.Equal((2L, 2L), (_recorder.ObserveValue(OperationCount, "l2"), _recorder.ObserveValue(OperationLimit, "l2")));
            cancellation.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        }

        _inner.ReleaseHung();
        ResilientDistributedCacheStatistics statistics = cache.GetStatistics();
        Assert.Equal(("l2", 3L, 1L, 1L, 0L, 1L, 1L, 7L), (statistics.Name, statistics.Succeeded, statistics.Failed, statistics.TimedOut, statistics.Rejected, statistics.Throttled, statistics.Cancelled, statistics.Operations));
        Assert.Equal(0, statistics.CircuitOpenings);
        Assert.False(statistics.IsCircuitOpen);
        AssertInstrumentsMatch(statistics);
    }

    [Fact]
    public async Task TheCircuit_OpeningsRejectionsAndState_FollowTheBreaker()
    {
        ResilientDistributedCache cache = Create("breaker", o => o.MinimumThroughput = 2);
        _inner.Behavior = ScriptedBehavior.Throw;
        await Assert.ThrowsAsync<InvalidOperationException>(() => cache.GetAsync("k"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => cache.GetAsync("k"));

        await Assert.ThrowsAsync<BrokenCircuitException>(() => cache.GetAsync("k"));
        Assert.Throws<BrokenCircuitException>(() => cache.Get("k"));
        ResilientDistributedCacheStatistics open = cache.GetStatistics();
        Assert.Equal((2L, 2L, 1L, true), (open.Failed, open.Rejected, open.CircuitOpenings, open.IsCircuitOpen));
        AssertInstrumentsMatch(open);
        Assert.Equal(1, _recorder.ObserveValue(OpenCircuits, "breaker"));

        // The server is back; after the break, one trial closes the circuit.
        _inner.Behavior = ScriptedBehavior.Answer;
        _time.Advance(TimeSpan.FromSeconds(5));
        await cache.SetAsync("k", [1], s_entry);

        ResilientDistributedCacheStatistics closed = cache.GetStatistics();
        Assert.Equal((1L, 1L, false), (closed.Succeeded, closed.CircuitOpenings, closed.IsCircuitOpen));
        AssertInstrumentsMatch(closed);
        Assert.Equal(0, _recorder.ObserveValue(OpenCircuits, "breaker"));
    }

    [Fact]
    public void SynchronousMembers_AreCountedToo()
    {
        ResilientDistributedCache cache = Create("sync");
        cache.Set("a", [1], s_entry);
        cache.Set("b", new ReadOnlySequence<byte>([2]), s_entry);
        Assert.NotNull(cache.Get("a"));
        Assert.True(cache.TryGet("b", new ArrayBufferWriter<byte>()));
        cache.Refresh("a");
        cache.Remove("a");

        ResilientDistributedCacheStatistics statistics = cache.GetStatistics();
        Assert.Equal((6L, 6L), (statistics.Succeeded, statistics.Operations));
        AssertInstrumentsMatch(statistics);
    }

    [Fact]
    public void Names_UnnamedCachesGetDistinctNames_AndANameIsKept()
    {
        ResilientDistributedCache first = Create(name: null);
        ResilientDistributedCache second = Create(name: null);
        ResilientDistributedCache named = Create("orders-l2");

        Assert.StartsWith("distributed-cache-", first.Name, StringComparison.Ordinal);
        Assert.NotEqual(first.Name, second.Name);
        Assert.Equal("orders-l2", named.Name);
        Assert.Equal(named.Name, named.GetStatistics().Name);
        Assert.Equal("Name", Assert.Throws<ArgumentException>(() => new ResilientDistributedCacheOptions { Name = " " }).ParamName);
        Assert.Equal(
            new[] { first.Name, second.Name, "orders-l2" }.Order(StringComparer.Ordinal),
            _recorder.Observe().Where(m => m.Instrument.Name == OpenCircuits).Select(m => m.Name!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task AddSafeMemHybridCache_PublishesTheWrapper_OnTheContainersMeterFactory()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IMeterFactory>(_meters);
        services.AddSingleton<IDistributedCache>(_inner);
        services.AddSafeMemHybridCache(o => o.MaximumWeight = 10_000, o =>
        {
            o.Name = "hybrid-l2";
            o.Timeout = TimeSpan.FromMinutes(1); // real clock: a busy machine must not turn a call into a timeout
        });
        await using ServiceProvider provider = services.BuildServiceProvider();

        // Resolved as HybridCache resolves it (HybridCache itself would add L2 operations of its own in the background).
        var wrapper = (ResilientDistributedCache)provider.GetRequiredKeyedService<IDistributedCache>(SafeMemHybridCacheServiceCollectionExtensions.DistributedCacheServiceKey);
        Assert.Same(_inner, wrapper.InnerCache);
        await wrapper.SetAsync("k", [7], s_entry);
        Assert.Equal([7], await wrapper.GetAsync("k"));

        ResilientDistributedCacheStatistics statistics = wrapper.GetStatistics();
        Assert.Equal(("hybrid-l2", 2L, 2L), (statistics.Name, statistics.Succeeded, statistics.Operations));
        AssertInstrumentsMatch(statistics);
    }

    [Fact]
    public void DroppedWrapper_IsCollected_WhileAListenerListens_AndStopsReporting()
    {
        WeakReference dropped = CreateAndDrop();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.False(dropped.IsAlive, "The instruments must hold the wrapper weakly.");
        Assert.DoesNotContain(_recorder.Observe(), m => m.Name == "dropped");
    }

    [Fact]
    public async Task ManyThreads_EveryOperationIsCountedUnderExactlyOneOutcome()
    {
        const int Threads = 4;
        const int PerThread = 2_000;
        var flaky = new FlakyDistributedCache();
        var cache = new ResilientDistributedCache(flaky, new ResilientDistributedCacheOptions
        {
            Name = "stress",
            MeterFactory = _meters,
            TimeProvider = _time, // frozen: one sampling window, and a failure ratio below 1 never opens the circuit
            FailureRatio = 1.0,
        });
        long succeeded = 0;
        long failed = 0;

        await Task.WhenAll(Enumerable.Range(0, Threads).Select(t => Task.Run(async () =>
        {
            for (int i = 0; i < PerThread; i++)
            {
                string key = (i % 3 == 0 ? "fail-" : "ok-") + t;
                try
                {
                    if (i % 2 == 0)
                    {
                        await cache.GetAsync(key);
                    }
                    else
                    {
                        cache.Remove(key);
                    }

                    Interlocked.Increment(ref succeeded);
                }
                catch (InvalidOperationException)
                {
                    Interlocked.Increment(ref failed);
                }
            }
        })));

        ResilientDistributedCacheStatistics statistics = cache.GetStatistics();
        Assert.Equal(Threads * PerThread, statistics.Operations);
        Assert.Equal((succeeded, failed, 0L, 0L, 0L), (statistics.Succeeded, statistics.Failed, statistics.TimedOut, statistics.Rejected, statistics.Cancelled));
        Assert.Equal(Threads * PerThread, flaky.Calls);
        AssertInstrumentsMatch(statistics);
    }

    private void AssertInstrumentsMatch(ResilientDistributedCacheStatistics statistics)
    {
        foreach ((string outcome, long expected) in new[]
        {
            ("succeeded", statistics.Succeeded),
            ("failed", statistics.Failed),
            ("timed_out", statistics.TimedOut),
            ("rejected", statistics.Rejected),
            ("throttled", statistics.Throttled),
            ("cancelled", statistics.Cancelled),
        })
        {
            Assert.Equal(expected, _recorder.ObserveValue(Operations, statistics.Name, (SafeMemTags.DistributedCacheOutcome, outcome)));
        }

        Assert.Equal(statistics.CircuitOpenings, _recorder.ObserveValue(Openings, statistics.Name));
        Assert.Equal(statistics.IsCircuitOpen ? 1 : 0, _recorder.ObserveValue(OpenCircuits, statistics.Name));
        Assert.Equal(statistics.MaximumOperationsInFlight, _recorder.ObserveValue(OperationLimit, statistics.Name));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private WeakReference CreateAndDrop()
    {
        ResilientDistributedCache cache = Create("dropped");
        cache.Set("k", [1], s_entry);
        Assert.Contains(_recorder.Observe(), m => m.Name == "dropped");
        return new WeakReference(cache);
    }

    private ResilientDistributedCache Create(string? name, Action<ResilientDistributedCacheOptions>? configure = null)
    {
        var options = new ResilientDistributedCacheOptions { Name = name, MeterFactory = _meters, TimeProvider = _time, FailureRatio = 1.0 };
        configure?.Invoke(options);
        return new ResilientDistributedCache(_inner, options);
    }

    /// <summary>Answers at once; throws for keys that start with "fail-".</summary>
    private sealed class FlakyDistributedCache : IDistributedCache
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public byte[]? Get(string key) => Answer<byte[]?>(key, null);

        public Task<byte[]?> GetAsync(string key, CancellationToken token = default) => Task.FromResult(Get(key));

        public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => Answer(key, true);

        public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default) => Task.FromResult(Answer(key, true));

        public void Refresh(string key) => Answer(key, true);

        public Task RefreshAsync(string key, CancellationToken token = default) => Task.FromResult(Answer(key, true));

        public void Remove(string key) => Answer(key, true);

        public Task RemoveAsync(string key, CancellationToken token = default) => Task.FromResult(Answer(key, true));

        private T Answer<T>(string key, T value)
        {
            Interlocked.Increment(ref _calls);
            return key.StartsWith("fail-", StringComparison.Ordinal) ? throw new InvalidOperationException("flaky") : value;
        }
    }
}
