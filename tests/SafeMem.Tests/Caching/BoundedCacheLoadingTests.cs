using SafeMem.Caching;

namespace SafeMem.Tests.Caching;

/// <summary>GetOrAdd / GetOrAddAsync: single flight per key, shared results and failures, reentrancy.</summary>
public abstract class BoundedCacheLoadingTests(EvictionPolicy policy)
{
    /// <summary>Gets the eviction policy every cache of these tests is built with.</summary>
    protected EvictionPolicy Policy { get; } = policy;

    private static readonly TimeSpan s_deadlockGuard = TimeSpan.FromSeconds(10);

    private BoundedCache<int, string> NewCache() => new(new BoundedCacheOptions<int, string> { EvictionPolicy = Policy, MaximumCount = 100 });

    [Fact]
    public void GetOrAdd_StateOverload_PassesArgument()
    {
        using BoundedCache<int, string> cache = NewCache();

        string value = cache.GetOrAdd(7, static (key, prefix) => prefix + key, "item-");

        Assert.Equal("item-7", value);
        Assert.True(cache.TryGet(7, out string? stored));
        Assert.Equal("item-7", stored);
    }

    [Fact]
    public async Task GetOrAddAsync_ConcurrentCallers_ShareOneFactoryRun()
    {
        using BoundedCache<int, string> cache = NewCache();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int calls = 0;

        async ValueTask<string> Factory(int key, CancellationToken ct)
        {
            Interlocked.Increment(ref calls);
            await gate.Task;
            return "v" + key;
        }

        ValueTask<string> first = cache.GetOrAddAsync(1, Factory);
        ValueTask<string> second = cache.GetOrAddAsync(1, Factory);
        Task<string> syncCaller = Task.Run(() => cache.GetOrAdd(1, k => { Interlocked.Increment(ref calls); return "sync"; }));
        await Task.Delay(50);
        gate.SetResult();

        Assert.Equal("v1", await first.AsTask().WaitAsync(s_deadlockGuard));
        Assert.Equal("v1", await second.AsTask().WaitAsync(s_deadlockGuard));
        Assert.Equal("v1", await syncCaller.WaitAsync(s_deadlockGuard));
        Assert.Equal(1, calls);
        Assert.Equal(1, cache.GetStatistics().FactoryCalls);
    }

    [Fact]
    public async Task GetOrAddAsync_FactoryThrows_EveryWaiterSeesItAndNothingIsCached()
    {
        using BoundedCache<int, string> cache = NewCache();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        async ValueTask<string> Failing(int key, CancellationToken ct)
        {
            await gate.Task;
            throw new InvalidDataException("boom");
        }

        ValueTask<string> first = cache.GetOrAddAsync(1, Failing);
        ValueTask<string> second = cache.GetOrAddAsync(1, (_, _) => ValueTask.FromResult("never"));
        gate.SetResult();

        await Assert.ThrowsAsync<InvalidDataException>(() => first.AsTask().WaitAsync(s_deadlockGuard));
        await Assert.ThrowsAsync<InvalidDataException>(() => second.AsTask().WaitAsync(s_deadlockGuard));
        Assert.False(cache.ContainsKey(1));
        Assert.Equal(1, cache.GetStatistics().FactoryFailures);

        // The failure is not cached: the next call runs a factory again.
        Assert.Equal("ok", await cache.GetOrAddAsync(1, (_, _) => ValueTask.FromResult("ok")));
    }

    [Fact]
    public async Task GetOrAddAsync_FactoryCancelled_WaitersSeeCancellationAndNothingIsCached()
    {
        using BoundedCache<int, string> cache = NewCache();
        using var cts = new CancellationTokenSource();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        async ValueTask<string> Slow(int key, CancellationToken ct)
        {
            started.SetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return "never";
        }

        ValueTask<string> owner = cache.GetOrAddAsync(1, Slow, cts.Token);
        await started.Task.WaitAsync(s_deadlockGuard);
        ValueTask<string> waiter = cache.GetOrAddAsync(1, (_, _) => ValueTask.FromResult("other"));
        cts.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => owner.AsTask().WaitAsync(s_deadlockGuard));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiter.AsTask().WaitAsync(s_deadlockGuard));
        Assert.False(cache.ContainsKey(1));
    }

    [Fact]
    public async Task GetOrAddAsync_WaiterCancelsItsOwnWait_LoadGoesOn()
    {
        using BoundedCache<int, string> cache = NewCache();
        var gate = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var waiterCts = new CancellationTokenSource();

        ValueTask<string> owner = cache.GetOrAddAsync(1, (_, _) => new ValueTask<string>(gate.Task));
        ValueTask<string> waiter = cache.GetOrAddAsync(1, (_, _) => ValueTask.FromResult("other"), waiterCts.Token);
        waiterCts.Cancel();
        gate.SetResult("v");

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiter.AsTask().WaitAsync(s_deadlockGuard));
        Assert.Equal("v", await owner.AsTask().WaitAsync(s_deadlockGuard));
        Assert.True(cache.ContainsKey(1));
    }

    [Fact]
    public void GetOrAdd_FactoryThrows_ExceptionPropagatesAndCacheUnchanged()
    {
        using BoundedCache<int, string> cache = NewCache();
        cache.Set(2, "two");

        Assert.Throws<InvalidDataException>(() => cache.GetOrAdd(1, _ => throw new InvalidDataException()));

        Assert.False(cache.ContainsKey(1));
        Assert.Equal(1, cache.Count);
        Assert.Equal(1, cache.GetStatistics().FactoryFailures);
        Assert.Equal("one", cache.GetOrAdd(1, _ => "one"));
    }

    [Fact]
    public void GetOrAdd_FactoryReturnsNull_ThrowsAndCachesNothing()
    {
        using BoundedCache<int, string> cache = NewCache();

        InvalidOperationException ex = Assert.Throws<InvalidOperationException>(() => cache.GetOrAdd(1, _ => null!));

        Assert.Contains("null", ex.Message, StringComparison.Ordinal);
        Assert.False(cache.ContainsKey(1));
        Assert.Equal(1, cache.GetStatistics().FactoryFailures);
    }

    [Fact]
    public async Task GetOrAddAsync_FactoryReturnsNull_Throws()
    {
        using BoundedCache<int, string> cache = NewCache();

        await Assert.ThrowsAsync<InvalidOperationException>(() => cache.GetOrAddAsync(1, (_, _) => ValueTask.FromResult<string>(null!)).AsTask());
        Assert.False(cache.ContainsKey(1));
    }

    [Fact]
    public async Task GetOrAdd_FactoryReentersSameKey_ThrowsInsteadOfDeadlocking()
    {
        using BoundedCache<int, string> cache = NewCache();

        InvalidOperationException ex = await Task.Run(() => Assert.Throws<InvalidOperationException>(
            () => cache.GetOrAdd(1, key => cache.GetOrAdd(key, _ => "inner")))).WaitAsync(s_deadlockGuard);

        Assert.Contains("same key", ex.Message, StringComparison.Ordinal);
        Assert.False(cache.ContainsKey(1));

        // The cache is intact: the key loads normally afterwards.
        Assert.Equal("fine", cache.GetOrAdd(1, _ => "fine"));
    }

    [Fact]
    public async Task GetOrAddAsync_FactoryReentersSameKeyAfterAwait_Throws()
    {
        using BoundedCache<int, string> cache = NewCache();

        async ValueTask<string> Reentrant(int key, CancellationToken ct)
        {
            await Task.Yield();
            return await cache.GetOrAddAsync(key, (_, _) => ValueTask.FromResult("inner"), ct);
        }

        await Assert.ThrowsAsync<InvalidOperationException>(() => cache.GetOrAddAsync(1, Reentrant).AsTask().WaitAsync(s_deadlockGuard));
        Assert.False(cache.ContainsKey(1));
    }

    [Fact]
    public void GetOrAdd_FactoryLoadsOtherKey_Works()
    {
        using BoundedCache<int, string> cache = NewCache();

        string value = cache.GetOrAdd(1, key => "outer+" + cache.GetOrAdd(key + 1, k => "inner" + k));

        Assert.Equal("outer+inner2", value);
        Assert.True(cache.ContainsKey(1));
        Assert.True(cache.ContainsKey(2));
    }

    [Fact]
    public async Task GetOrAddAsync_Hit_CompletesSynchronously()
    {
        using BoundedCache<int, string> cache = NewCache();
        cache.Set(1, "one");

        ValueTask<string> hit = cache.GetOrAddAsync(1, (_, _) => throw new InvalidOperationException("not called"));

        Assert.True(hit.IsCompletedSuccessfully);
        Assert.Equal("one", await hit);
    }

    [Fact]
    public void GetOrAdd_ValueTooHeavy_ReturnsValueButCachesNothing()
    {
        using var cache = new BoundedCache<int, string>(new BoundedCacheOptions<int, string>
        {
            EvictionPolicy = Policy,
            MaximumWeight = 3,
            Weigher = static (_, v) => v.Length,
        });

        Assert.Equal("heavy", cache.GetOrAdd(1, _ => "heavy"));
        Assert.False(cache.ContainsKey(1));
        Assert.Equal(1, cache.GetStatistics().Rejections);
    }

    [Fact]
    public async Task GetOrAdd_ConcurrentThreads_FactoryRunsOncePerKey()
    {
        using BoundedCache<int, string> cache = NewCache();
        var calls = new int[8];
        using var start = new Barrier(4);

        Task[] workers = Enumerable.Range(0, 4).Select(_ => Task.Factory.StartNew(
            () =>
            {
                start.SignalAndWait();
                for (int key = 0; key < calls.Length; key++)
                {
                    cache.GetOrAdd(key, k =>
                    {
                        Interlocked.Increment(ref calls[k]);
                        Thread.Sleep(5);
                        return "v" + k;
                    });
                }
            },
            TaskCreationOptions.LongRunning)).ToArray();

        await Task.WhenAll(workers).WaitAsync(s_deadlockGuard);
        Assert.All(calls, c => Assert.Equal(1, c));
    }

    /// <summary>Runs these tests under <see cref="EvictionPolicy.Lru"/>.</summary>
    public sealed class UnderLru() : BoundedCacheLoadingTests(EvictionPolicy.Lru);

    /// <summary>Runs these tests under <see cref="EvictionPolicy.TinyLfu"/>.</summary>
    public sealed class UnderTinyLfu() : BoundedCacheLoadingTests(EvictionPolicy.TinyLfu);
}
