using System.Buffers;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Time.Testing;
using Polly.CircuitBreaker;
using SafeMem.Extensions.Caching;

namespace SafeMem.Extensions.Hybrid.Tests.Caching;

public sealed class ResilientDistributedCacheTests
{
    private static readonly DistributedCacheEntryOptions s_entry = new() { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(1) };

    private readonly FakeTimeProvider _time = new();
    private readonly ScriptedDistributedCache _inner = new();

    [Fact]
    public void Constructor_NullArguments_Throw()
    {
        Assert.Throws<ArgumentNullException>("inner", () => new ResilientDistributedCache(null!, new ResilientDistributedCacheOptions()));
        Assert.Throws<ArgumentNullException>("optionsAccessor", () => new ResilientDistributedCache(_inner, null!));
    }

    [Fact]
    public async Task Members_NullKeyOrValue_Throw()
    {
        ResilientDistributedCache cache = Create();
        await Assert.ThrowsAsync<ArgumentNullException>("key", () => cache.GetAsync(null!));
        await Assert.ThrowsAsync<ArgumentNullException>("destination", () => cache.TryGetAsync("k", null!).AsTask());
        await Assert.ThrowsAsync<ArgumentNullException>("value", () => cache.SetAsync("k", (byte[])null!, s_entry));
        await Assert.ThrowsAsync<ArgumentNullException>("options", () => cache.SetAsync("k", new ReadOnlySequence<byte>([1]), null!).AsTask());
        Assert.Throws<ArgumentNullException>("key", () => cache.Remove(null!));
    }

    [Fact]
    public async Task ReadsAndWrites_InnerAnswers_PassThrough()
    {
        ResilientDistributedCache cache = Create();

        await cache.SetAsync("a", new ReadOnlySequence<byte>([1, 2, 3]), s_entry);
        await cache.SetAsync("b", [4, 5], s_entry);
        var destination = new ArrayBufferWriter<byte>();

        Assert.True(await cache.TryGetAsync("a", destination));
        Assert.Equal([1, 2, 3], destination.WrittenSpan.ToArray());
        Assert.Equal([4, 5], await cache.GetAsync("b"));
        Assert.False(await cache.TryGetAsync("missing", destination));
        Assert.Null(await cache.GetAsync("missing"));
        Assert.Equal(3, destination.WrittenCount);

        await cache.RemoveAsync("a");
        Assert.False(_inner.Store.ContainsKey("a"));
        Assert.Same(_inner, cache.InnerCache);
    }

    [Fact]
    public void SynchronousMembers_InnerAnswers_PassThrough()
    {
        ResilientDistributedCache cache = Create();

        cache.Set("a", new ReadOnlySequence<byte>([1, 2]), s_entry);
        cache.Set("b", [3], s_entry);
        var destination = new ArrayBufferWriter<byte>();

        Assert.True(cache.TryGet("a", destination));
        Assert.Equal([1, 2], destination.WrittenSpan.ToArray());
        Assert.Equal([3], cache.Get("b"));
        cache.Refresh("b");
        cache.Remove("b");
        Assert.Null(cache.Get("b"));
    }

    [Fact]
    public async Task PlainInnerCache_BufferMembers_GoThroughByteArrays()
    {
        var cache = new ResilientDistributedCache(new PlainDistributedCache(_inner), Options());
        byte[] source = [7, 8, 9];

        await cache.SetAsync("k", new ReadOnlySequence<byte>(source), s_entry);
        source[0] = 0; // the inner cache was given a copy
        var destination = new ArrayBufferWriter<byte>();

        Assert.True(await cache.TryGetAsync("k", destination));
        Assert.Equal([7, 8, 9], destination.WrittenSpan.ToArray());
        Assert.False(await cache.TryGetAsync("missing", destination));
        cache.Set("s", new ReadOnlySequence<byte>([1]), s_entry);
        Assert.True(cache.TryGet("s", destination));
    }

    [Fact]
    public async Task GetAsync_InnerHangs_FailsWithTimeoutWhenTheTimeoutPasses()
    {
        ResilientDistributedCache cache = Create();
        _inner.Behavior = ScriptedBehavior.Hang;

        Task<byte[]?> read = cache.GetAsync("k");
        await _inner.WaitForCallsAsync(1);
        _time.Advance(TimeSpan.FromMilliseconds(49));
        Assert.False(read.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        await Assert.ThrowsAsync<TimeoutException>(() => read);
    }

    [Fact]
    public async Task TryGetAsync_ReadAnswersAfterItsTimeout_NeverWritesIntoTheCallersBuffer()
    {
        ResilientDistributedCache cache = Create();
        await cache.SetAsync("k", new ReadOnlySequence<byte>([1, 2, 3]), s_entry);
        _inner.Behavior = ScriptedBehavior.Hang;
        var destination = new ArrayBufferWriter<byte>();

        ValueTask<bool> read = cache.TryGetAsync("k", destination);
        await _inner.WaitForCallsAsync(2);
        _time.Advance(TimeSpan.FromMilliseconds(50));
        await Assert.ThrowsAsync<TimeoutException>(() => read.AsTask());

        // The abandoned read answers now, as a frozen server does when it thaws: it writes into the buffer it was
        // given. That must not be the caller's, which HybridCache has recycled by now.
        _inner.ReleaseHung();
        Assert.NotNull(_inner.LastHungDestination);
        Assert.NotSame(destination, _inner.LastHungDestination);
        Assert.Equal(0, destination.WrittenCount);
    }

    [Fact]
    public async Task SetAsync_WriteRunsAfterItsTimeout_StoresTheValueAsItWasWhenWritten()
    {
        ResilientDistributedCache cache = Create();
        _inner.Behavior = ScriptedBehavior.Hang;
        byte[] callerBuffer = [1, 2, 3, 4];

        ValueTask write = cache.SetAsync("k", new ReadOnlySequence<byte>(callerBuffer, 0, 3), s_entry);
        await _inner.WaitForCallsAsync(1);
        _time.Advance(TimeSpan.FromMilliseconds(50));
        await Assert.ThrowsAsync<TimeoutException>(() => write.AsTask());

        // The caller recycles its buffer once the call has returned; the abandoned write then runs.
        Array.Fill(callerBuffer, (byte)0xEE);
        _inner.ReleaseHung();

        Assert.Equal([1, 2, 3], _inner.Store["k"]);
    }

    [Fact]
    public async Task Failures_ReachTheRatio_OpenTheCircuit_AndLaterCallsFailWithoutReachingTheInnerCache()
    {
        ResilientDistributedCache cache = Create(o => o.MinimumThroughput = 4);
        _inner.Behavior = ScriptedBehavior.Throw;

        for (int i = 0; i < 4; i++)
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => cache.GetAsync("k"));
        }

        Assert.Equal(CircuitState.Open, cache.CircuitState);
        int calls = _inner.Calls;
        await Assert.ThrowsAsync<BrokenCircuitException>(() => cache.GetAsync("k"));
        await Assert.ThrowsAsync<BrokenCircuitException>(() => cache.TryGetAsync("k", new ArrayBufferWriter<byte>()).AsTask());
        await Assert.ThrowsAsync<BrokenCircuitException>(() => cache.SetAsync("k", new ReadOnlySequence<byte>([1]), s_entry).AsTask());
        Assert.Throws<BrokenCircuitException>(() => cache.Get("k"));
        Assert.Equal(calls, _inner.Calls);
    }

    [Fact]
    public async Task Removals_WhileTheCircuitIsOpen_FailRatherThanPretendToHaveRemoved()
    {
        ResilientDistributedCache cache = Create(o => o.MinimumThroughput = 2);
        _inner.Behavior = ScriptedBehavior.Throw;
        await Assert.ThrowsAsync<InvalidOperationException>(() => cache.RemoveAsync("k"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => cache.RemoveAsync("k"));

        await Assert.ThrowsAsync<BrokenCircuitException>(() => cache.RemoveAsync("k"));
        await Assert.ThrowsAsync<BrokenCircuitException>(() => cache.RefreshAsync("k"));
    }

    [Fact]
    public async Task Timeouts_CountAsFailures()
    {
        ResilientDistributedCache cache = Create(o => o.MinimumThroughput = 3);
        _inner.Behavior = ScriptedBehavior.Hang;

        for (int i = 0; i < 3; i++)
        {
            Task<byte[]?> read = cache.GetAsync("k");
            await _inner.WaitForCallsAsync(i + 1);
            _time.Advance(TimeSpan.FromMilliseconds(50));
            await Assert.ThrowsAsync<TimeoutException>(() => read);
        }

        Assert.Equal(CircuitState.Open, cache.CircuitState);
        _inner.ReleaseHung();
    }

    [Fact]
    public async Task Misses_AreNotFailures()
    {
        ResilientDistributedCache cache = Create(o => o.MinimumThroughput = 2);

        for (int i = 0; i < 10; i++)
        {
            Assert.Null(await cache.GetAsync("missing"));
        }

        Assert.Equal(CircuitState.Closed, cache.CircuitState);
    }

    [Fact]
    public async Task CallerCancellation_IsNotAFailure()
    {
        ResilientDistributedCache cache = Create(o => o.MinimumThroughput = 2);
        _inner.Behavior = ScriptedBehavior.Hang;

        for (int i = 0; i < 5; i++)
        {
            using var cancellation = new CancellationTokenSource();
            Task<byte[]?> read = cache.GetAsync("k", cancellation.Token);
            await _inner.WaitForCallsAsync(i + 1);
            cancellation.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
        }

        Assert.Equal(CircuitState.Closed, cache.CircuitState);
        _inner.ReleaseHung();
    }

    [Fact]
    public async Task OpenCircuit_AfterTheBreak_ATrialThatSucceedsClosesIt()
    {
        ResilientDistributedCache cache = Create(o =>
        {
            o.MinimumThroughput = 2;
            o.BreakDuration = TimeSpan.FromSeconds(5);
        });
        _inner.Behavior = ScriptedBehavior.Throw;
        await Assert.ThrowsAsync<InvalidOperationException>(() => cache.GetAsync("k"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => cache.GetAsync("k"));
        _inner.Behavior = ScriptedBehavior.Answer; // the server is back, but the circuit does not know yet

        _time.Advance(TimeSpan.FromSeconds(4));
        await Assert.ThrowsAsync<BrokenCircuitException>(() => cache.GetAsync("k"));
        _time.Advance(TimeSpan.FromSeconds(1));
        await cache.SetAsync("k", [42], s_entry);

        Assert.Equal(CircuitState.Closed, cache.CircuitState);
        Assert.Equal([42], await cache.GetAsync("k"));
    }

    [Fact]
    public async Task OpenCircuit_AfterTheBreak_ATrialThatFailsOpensItAgain()
    {
        ResilientDistributedCache cache = Create(o => o.MinimumThroughput = 2);
        _inner.Behavior = ScriptedBehavior.Throw;
        await Assert.ThrowsAsync<InvalidOperationException>(() => cache.GetAsync("k"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => cache.GetAsync("k"));

        _time.Advance(TimeSpan.FromSeconds(5));
        await Assert.ThrowsAsync<InvalidOperationException>(() => cache.GetAsync("k"));

        Assert.Equal(CircuitState.Open, cache.CircuitState);
        await Assert.ThrowsAsync<BrokenCircuitException>(() => cache.GetAsync("k"));
    }

    [Fact]
    public async Task Operations_BeyondTheLimitInFlight_FailAtOnceWithoutReachingTheInnerCache_AndLeaveTheCircuitAlone()
    {
        ResilientDistributedCache cache = Create(o =>
        {
            o.MaximumOperationsInFlight = 3;
            o.MinimumThroughput = 100;
        });
        _inner.Behavior = ScriptedBehavior.Hang;
        Task<byte[]?>[] hung = [.. Enumerable.Range(0, 3).Select(i => cache.GetAsync("k" + i))];
        await _inner.WaitForCallsAsync(3);

        await Assert.ThrowsAsync<DistributedCacheThrottledException>(() => cache.GetAsync("over"));
        await Assert.ThrowsAsync<DistributedCacheThrottledException>(() => cache.SetAsync("over", new ReadOnlySequence<byte>([1]), s_entry).AsTask());
        await Assert.ThrowsAsync<DistributedCacheThrottledException>(() => cache.TryGetAsync("over", new ArrayBufferWriter<byte>()).AsTask());
        Assert.Equal(3, _inner.Calls);
        ResilientDistributedCacheStatistics full = cache.GetStatistics();
        Assert.Equal((3L, 3, 3), (full.Throttled, full.OperationsInFlight, full.MaximumOperationsInFlight));

        // Timed out, the hung operations still run in the inner cache: they stay in flight, and keep others out.
        _time.Advance(TimeSpan.FromMilliseconds(50));
        foreach (Task<byte[]?> read in hung)
        {
            await Assert.ThrowsAsync<TimeoutException>(() => read);
        }

        Assert.Equal(3, cache.GetStatistics().OperationsInFlight);
        await Assert.ThrowsAsync<DistributedCacheThrottledException>(() => cache.RemoveAsync("over"));

        // The inner cache answers at last: the slots free up, and operations reach it again.
        _inner.ReleaseHung();
        await WaitUntilAsync(() => cache.GetStatistics().OperationsInFlight == 0);
        _inner.Behavior = ScriptedBehavior.Answer;
        Assert.Null(await cache.GetAsync("after"));
        Assert.Equal(CircuitState.Closed, cache.CircuitState);
        Assert.Equal(4L, cache.GetStatistics().Throttled);
    }

    [Fact]
    public async Task Throttled_WhileTheCircuitCouldOpen_CountsNeitherAsAFailureNorAsASuccess()
    {
        // Two failures with MinimumThroughput 2 open the circuit; throttled operations in between must not dilute them.
        ResilientDistributedCache cache = Create(o =>
        {
            o.MaximumOperationsInFlight = 1;
            o.MinimumThroughput = 3;
            o.FailureRatio = 0.6;
        });
        _inner.Behavior = ScriptedBehavior.Hang;
        Task<byte[]?> hung = cache.GetAsync("hung");
        await _inner.WaitForCallsAsync(1);
        for (int i = 0; i < 10; i++)
        {
            await Assert.ThrowsAsync<DistributedCacheThrottledException>(() => cache.GetAsync("over"));
        }

        _time.Advance(TimeSpan.FromMilliseconds(50));
        await Assert.ThrowsAsync<TimeoutException>(() => hung);
        _inner.ReleaseHung();
        await WaitUntilAsync(() => cache.GetStatistics().OperationsInFlight == 0);
        _inner.Behavior = ScriptedBehavior.Throw;
        await Assert.ThrowsAsync<InvalidOperationException>(() => cache.GetAsync("k"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => cache.GetAsync("k"));

        // Three failures of three: open. Had the ten throttled operations counted as successes, 3 of 13 would not.
        Assert.Equal(CircuitState.Open, cache.CircuitState);
    }

    [Fact]
    public async Task AnOperationAbandonedBeforeAThreadCouldStartIt_IsNeverStarted()
    {
        using var gate = new ManualResetEventSlim();
        var inner = new BlockingDistributedCache { Gate = gate };
        var cache = new ResilientDistributedCache(inner, new ResilientDistributedCacheOptions { Timeout = TimeSpan.FromMinutes(1) });
        int threads = InnerOperationRunner.MaximumThreads;
        Task<byte[]?>[] blocked = [.. Enumerable.Range(0, threads).Select(i => cache.GetAsync("b" + i))];
        await inner.WaitUntilBlockedAsync(threads);

        // Every runner thread is held by the client: this one waits in the queue, and its caller gives up.
        using var cancellation = new CancellationTokenSource();
        Task<byte[]?> queued = cache.GetAsync("queued", cancellation.Token);
        cancellation.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        Assert.Equal(threads + 1, cache.GetStatistics().OperationsInFlight);

        gate.Set();
        await Task.WhenAll(blocked);
        await WaitUntilAsync(() => cache.GetStatistics().OperationsInFlight == 0);
        Assert.Equal(threads, inner.Calls);
        Assert.Equal(1L, cache.GetStatistics().Cancelled);
    }

    [Fact]
    public async Task InnerCalls_RunInTheCallersExecutionContext_AndTheirContinuationsNeverOnARunnerThread()
    {
        var local = new AsyncLocal<string>();
        string? seen = null;
        var inner = new ObservingDistributedCache(() => seen = local.Value);
        var cache = new ResilientDistributedCache(inner, Options());
        local.Value = "caller's";

        // The inner cache answers synchronously, on the runner thread; what follows the await must not run there.
        Assert.Equal((false, false), await ContinuationsOnARunnerThreadAsync(cache));
        Assert.Equal("caller's", seen);

        static async Task<(bool AfterRead, bool AfterWrite)> ContinuationsOnARunnerThreadAsync(ResilientDistributedCache cache)
        {
            // ConfigureAwait(false): continue wherever the wrapper completes, as library code (HybridCache) does.
            await cache.GetAsync("k").ConfigureAwait(false);
            bool afterRead = InnerOperationRunner.IsRunnerThread;
            await cache.SetAsync("k", new ReadOnlySequence<byte>([1]), s_entry).ConfigureAwait(false);
            return (afterRead, InnerOperationRunner.IsRunnerThread);
        }
    }

    [Fact]
    public async Task RunnerThreads_AreStartedOnDemand_AndEndOnceIdle()
    {
        ResilientDistributedCache cache = Create();
        Assert.Equal(0, cache.Runner.Threads);

        await cache.SetAsync("k", [1], s_entry);
        Assert.InRange(cache.Runner.Threads, 1, InnerOperationRunner.MaximumThreads);

        await WaitUntilAsync(() => cache.Runner.Threads == 0);
        Assert.Equal([1], await cache.GetAsync("k")); // and a new one starts when needed
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (int i = 0; !condition(); i++)
        {
            Assert.True(i < 2_000, "The condition did not hold within 20 s.");
            await Task.Delay(10);
        }
    }

    private ResilientDistributedCache Create(Action<ResilientDistributedCacheOptions>? configure = null)
        => new(_inner, Options(configure));

    private ResilientDistributedCacheOptions Options(Action<ResilientDistributedCacheOptions>? configure = null)
    {
        var options = new ResilientDistributedCacheOptions { TimeProvider = _time, FailureRatio = 1.0 };
        configure?.Invoke(options);
        return options;
    }

    /// <summary>Answers every asynchronous call at once, after calling <c>observe</c> on the thread the call came on.</summary>
    private sealed class ObservingDistributedCache(Action observe) : IDistributedCache
    {
        public byte[]? Get(string key) => null;

        public Task<byte[]?> GetAsync(string key, CancellationToken token = default)
        {
            observe();
            return Task.FromResult<byte[]?>(null);
        }

        public void Set(string key, byte[] value, DistributedCacheEntryOptions options)
        {
        }

        public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
        {
            observe();
            return Task.CompletedTask;
        }

        public void Refresh(string key)
        {
        }

        public Task RefreshAsync(string key, CancellationToken token = default) => Task.CompletedTask;

        public void Remove(string key)
        {
        }

        public Task RemoveAsync(string key, CancellationToken token = default) => Task.CompletedTask;
    }
}
