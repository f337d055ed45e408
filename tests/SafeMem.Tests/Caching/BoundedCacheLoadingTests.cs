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
    public async Task GetOrAdd_TwoFactoriesAskForEachOthersKey_OneThrowsInsteadOfDeadlocking()
    {
        using BoundedCache<int, string> cache = NewCache();
        using var bothInside = new Barrier(2);

        string Outer(int key, int other) => cache.GetOrAdd(key, _ =>
        {
            // Both loads are in flight before either asks for the other's key: without detection, both wait forever.
            bothInside.SignalAndWait();
            return "outer+" + cache.GetOrAdd(other, k => "inner" + k);
        });

        Task<string> ten = Task.Factory.StartNew(() => Outer(10, 11), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Task<string> eleven = Task.Factory.StartNew(() => Outer(11, 10), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Task both = Task.WhenAll(ten, eleven);
        await Task.WhenAny(both, Task.Delay(s_deadlockGuard));

        Assert.True(ten.IsCompleted && eleven.IsCompleted, "the two loads deadlocked");
        InvalidOperationException cycle = Assert.IsType<InvalidOperationException>(
            new[] { ten, eleven }.Select(t => t.Exception?.GetBaseException()).First(e => e is not null));
        Assert.Contains("cycle", cycle.Message, StringComparison.Ordinal);

        // Nothing is stuck: both keys load normally afterwards.
        Assert.Equal("a", cache.GetOrAdd(10, _ => "a"));
        Assert.Equal("b", cache.GetOrAdd(11, _ => "b"));
    }

    [Fact]
    public async Task GetOrAddAsync_TwoFactoriesAwaitEachOthersKey_OneThrowsInsteadOfHanging()
    {
        using BoundedCache<int, string> cache = NewCache();
        var tenInside = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var elevenInside = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        ValueTask<string> Outer(int key, int other, TaskCompletionSource mine, TaskCompletionSource theirs) => cache.GetOrAddAsync(key, async (_, ct) =>
        {
            mine.SetResult();
            await theirs.Task;
            return "outer+" + await cache.GetOrAddAsync(other, (k, _) => ValueTask.FromResult("inner" + k), ct);
        });

        Task<string> ten = Outer(10, 11, tenInside, elevenInside).AsTask();
        Task<string> eleven = Outer(11, 10, elevenInside, tenInside).AsTask();
        await Task.WhenAny(Task.WhenAll(ten, eleven), Task.Delay(s_deadlockGuard));

        Assert.True(ten.IsCompleted && eleven.IsCompleted, "the two loads never completed");
        Exception first = new[] { ten, eleven }.Select(t => t.Exception?.GetBaseException()).First(e => e is not null)!;
        Assert.Contains("cycle", Assert.IsType<InvalidOperationException>(first).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetOrAdd_ThreeFactoriesInACycle_Throws()
    {
        using BoundedCache<int, string> cache = NewCache();
        using var allInside = new Barrier(3);
        var tasks = new Task<string>[3];
        for (int i = 0; i < 3; i++)
        {
            int key = i;
            tasks[i] = Task.Factory.StartNew(
                () => cache.GetOrAdd(key, _ =>
                {
                    allInside.SignalAndWait();
                    return cache.GetOrAdd((key + 1) % 3, k => "inner" + k);
                }),
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
        }

        await Task.WhenAny(Task.WhenAll(tasks), Task.Delay(s_deadlockGuard));

        Assert.True(tasks.All(t => t.IsCompleted), "the loads deadlocked");
        Assert.Contains(tasks, t => t.Exception?.GetBaseException() is InvalidOperationException);
    }

    [Fact]
    public async Task GetOrAdd_CycleThroughTwoCaches_Throws()
    {
        using BoundedCache<int, string> first = NewCache();
        using var second = new BoundedCache<string, int>(new BoundedCacheOptions<string, int> { EvictionPolicy = Policy, MaximumCount = 10 });
        using var bothInside = new Barrier(2);

        Task<string> viaFirst = Task.Factory.StartNew(
            () => first.GetOrAdd(1, _ =>
            {
                bothInside.SignalAndWait();
                return "x" + second.GetOrAdd("b", _ => 2);
            }),
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        Task<int> viaSecond = Task.Factory.StartNew(
            () => second.GetOrAdd("b", _ =>
            {
                bothInside.SignalAndWait();
                return first.GetOrAdd(1, _ => "y").Length;
            }),
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        await Task.WhenAny(Task.WhenAll(viaFirst, viaSecond), Task.Delay(s_deadlockGuard));

        Assert.True(viaFirst.IsCompleted && viaSecond.IsCompleted, "the loads deadlocked");
        Assert.Contains(new Task[] { viaFirst, viaSecond }, t => t.Exception?.GetBaseException() is InvalidOperationException);
    }

    [Fact]
    public async Task GetOrAdd_CycleInACacheThatDisposesValues_ThrowsAndLeavesNoHoldBehind()
    {
        using var cache = new BoundedCache<int, BoundedCacheFaultTests.Resource>(new BoundedCacheOptions<int, BoundedCacheFaultTests.Resource>
        {
            EvictionPolicy = Policy,
            MaximumCount = 10,
            DisposeRemovedValues = true,
        });
        using var bothInside = new Barrier(2);
        var created = new System.Collections.Concurrent.ConcurrentBag<BoundedCacheFaultTests.Resource>();

        BoundedCacheFaultTests.Resource Outer(int key, int other) => cache.GetOrAdd(key, _ =>
        {
            bothInside.SignalAndWait();
            cache.GetOrAdd(other, _ => Track(new BoundedCacheFaultTests.Resource()));
            return Track(new BoundedCacheFaultTests.Resource());
        });

        BoundedCacheFaultTests.Resource Track(BoundedCacheFaultTests.Resource resource)
        {
            created.Add(resource);
            return resource;
        }

        Task ten = Task.Factory.StartNew(() => Outer(10, 11), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Task eleven = Task.Factory.StartNew(() => Outer(11, 10), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        await Task.WhenAny(Task.WhenAll(ten, eleven), Task.Delay(s_deadlockGuard));

        Assert.True(ten.IsCompleted && eleven.IsCompleted, "the two loads deadlocked");
        Assert.Contains(new[] { ten, eleven }, t => t.Exception?.GetBaseException() is InvalidOperationException);

        // The waits refused by the cycle check gave up their place in the loads: no hold is left, nothing leaked.
        Assert.Equal(0, cache.CountLeases());
        Assert.Null(cache.FindInconsistency());
        cache.Clear();
        Assert.All(created, r => Assert.Equal(1, r.DisposeCount));
    }

    [Fact]
    public async Task GetOrAdd_FactoryWaitsForAnotherKeysLoadThatDoesNotWaitBack_Succeeds()
    {
        using BoundedCache<int, string> cache = NewCache();
        var elevenStarted = new ManualResetEventSlim();
        var releaseEleven = new ManualResetEventSlim();

        Task<string> eleven = Task.Factory.StartNew(
            () => cache.GetOrAdd(11, _ =>
            {
                elevenStarted.Set();
                releaseEleven.Wait();
                return "eleven";
            }),
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        Assert.True(elevenStarted.Wait(s_deadlockGuard));
        Task<string> ten = Task.Factory.StartNew(
            () => cache.GetOrAdd(10, _ => "ten+" + cache.GetOrAdd(11, _ => "other")),
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        await Task.Delay(50);
        releaseEleven.Set();

        Assert.Equal("ten+eleven", await ten.WaitAsync(s_deadlockGuard));
        Assert.Equal("eleven", await eleven.WaitAsync(s_deadlockGuard));
    }

    [Fact]
    public async Task GetOrAddAsync_LoadingCallerCancelled_StopsWaitingAtOnceWhileTheFactoryRunsOn()
    {
        using BoundedCache<int, string> cache = NewCache();
        var gate = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cts = new CancellationTokenSource();

        // The factory ignores its token.
        ValueTask<string> loading = cache.GetOrAddAsync(1, (_, _) => new ValueTask<string>(gate.Task), cts.Token);
        ValueTask<string> waiter = cache.GetOrAddAsync(1, (_, _) => ValueTask.FromResult("other"));
        cts.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => loading.AsTask().WaitAsync(s_deadlockGuard));
        Assert.False(gate.Task.IsCompleted);

        // The load goes on for the other waiter and the cache.
        gate.SetResult("v");
        Assert.Equal("v", await waiter.AsTask().WaitAsync(s_deadlockGuard));
        Assert.True(cache.TryGet(1, out string? stored));
        Assert.Equal("v", stored);
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
