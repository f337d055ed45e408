using System.Runtime.CompilerServices;
using SafeMem.Registries;
using SafeMem.Telemetry;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Registries;

public sealed class WeakValueRegistryTests
{
    private static readonly TimeSpan s_deadlockLimit = TimeSpan.FromSeconds(10);

    [Fact]
    public void GetOrAdd_LiveValue_ReturnsTheSameInstanceWithoutRunningTheFactory()
    {
        var registry = new WeakValueRegistry<int, Session>("t");
        int calls = 0;

        Session first = registry.GetOrAdd(1, id => { calls++; return new Session(id); });
        Session second = registry.GetOrAdd(1, id => { calls++; return new Session(id); });

        Assert.Same(first, second);
        Assert.Equal(1, calls);
        Assert.True(registry.TryGet(1, out Session? found));
        Assert.Same(first, found);
    }

    [Fact]
    public void GetOrAdd_StatePassingOverload_PassesTheArgument()
    {
        var registry = new WeakValueRegistry<int, Session>("t");

        Session session = registry.GetOrAdd(3, static (id, offset) => new Session(id + offset), 10);

        Assert.Equal(13, session.Id);
    }

    [Fact]
    public void GetOrAdd_KeysUseTheComparer_NotIdentity()
    {
        var registry = new WeakValueRegistry<string, Session>(new RegistryOptions { Name = "t" }, StringComparer.OrdinalIgnoreCase);

        Session session = registry.GetOrAdd("Alice", static _ => new Session(1));

        Assert.True(registry.TryGet(new string("ALICE".AsSpan()), out Session? found));
        Assert.Same(session, found);
        Assert.Same(StringComparer.OrdinalIgnoreCase, registry.Comparer);
    }

    [Fact]
    public void GetOrAdd_ValueDropped_ValueIsCollected()
    {
        var registry = new WeakValueRegistry<int, Session>("t");
        WeakReference value = AddDropped(registry, 1);

        GcAssert.Collected(value);

        Assert.False(registry.TryGet(1, out _));
        Assert.Equal(0, registry.Count);
        Assert.Empty(registry);
        Assert.Equal(new RegistryStatistics { Count = 0, Additions = 1, Reclamations = 1 }, registry.GetStatistics());
    }

    [Fact]
    public void Control_Dictionary_KeepsDroppedValueAlive()
    {
        var dictionary = new Dictionary<int, Session>();
        WeakReference value = AddDropped(dictionary, 1);

        GcAssert.Alive(value);
        Assert.Single(dictionary);
    }

    [Fact]
    public void GetOrAdd_AfterValueCollected_CreatesAFreshInstance()
    {
        var registry = new WeakValueRegistry<int, Session>("t");
        GcAssert.Collected(AddDropped(registry, 1));
        int calls = 0;

        Session fresh = registry.GetOrAdd(1, id => { calls++; return new Session(id); });

        Assert.Equal(1, calls);
        Assert.True(registry.TryGet(1, out Session? found));
        Assert.Same(fresh, found);
        Assert.Equal(new RegistryStatistics { Count = 1, Additions = 2, Reclamations = 1 }, registry.GetStatistics());
    }

    [Fact]
    public void Count_MixOfLiveAndDroppedValues_CountsAndEnumeratesOnlyLiveOnes()
    {
        var registry = new WeakValueRegistry<int, Session>("t");
        Session[] kept = [registry.GetOrAdd(1, static id => new Session(id)), registry.GetOrAdd(2, static id => new Session(id))];
        WeakReference[] dropped = [AddDropped(registry, 3), AddDropped(registry, 4), AddDropped(registry, 5)];

        GcAssert.Collected(dropped);

        Assert.Equal(2, registry.Count);
        Assert.Equal([1, 2], registry.Select(p => p.Key).Order());
        Assert.All(registry, pair => Assert.Equal(pair.Key, pair.Value.Id));
        Assert.Equal(3, registry.GetStatistics().Reclamations);
        GC.KeepAlive(kept);
    }

    [Fact]
    public void Purge_DeadValues_DropsTheirSlots()
    {
        var registry = new WeakValueRegistry<int, Session>("t");
        var kept = registry.GetOrAdd(0, static id => new Session(id));
        GcAssert.Collected(AddDroppedRange(registry, 1, 20));

        registry.Purge();

        // A purge that the collection above queued may be running right now; this call then leaves the work to it.
        Assert.True(SpinWait.SpinUntil(() => registry.SlotCount == 1, TimeSpan.FromSeconds(10)), $"{registry.SlotCount} slots left.");
        GC.KeepAlive(kept);
    }

    [Fact]
    public void GcSweep_RegistryNeverCalledAgain_DropsDeadSlots()
    {
        var registry = new WeakValueRegistry<int, Session>("t");
        GcAssert.Collected(AddDroppedRange(registry, 0, 20));

        // No call into the registry from here on: only the full-collection notification can shrink the map.
        DateTime deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (registry.SlotCount > 0 && DateTime.UtcNow < deadline)
        {
            GcAssert.FullCollect();
            Thread.Sleep(20);
        }

        Assert.Equal(0, registry.SlotCount);
    }

    [Fact]
    public void Registry_DroppedWhileHoldingSlots_IsCollected()
    {
        // Neither the GC notification nor the telemetry registration may root the registry.
        WeakReference registry = CreateDroppedRegistry();

        GcAssert.Collected(registry);
    }

    [Fact]
    public void TryAdd_KeyWithoutLiveValue_AddsAndLiveValueIsNotReplaced()
    {
        var registry = new WeakValueRegistry<int, Session>("t");
        var first = new Session(1);
        var second = new Session(1);

        Assert.True(registry.TryAdd(1, first));
        Assert.False(registry.TryAdd(1, second));

        Assert.True(registry.TryGet(1, out Session? found));
        Assert.Same(first, found);
    }

    [Fact]
    public void Remove_LiveValue_RemovesAndCountsOnce()
    {
        var registry = new WeakValueRegistry<int, Session>("t");
        Session session = registry.GetOrAdd(1, static id => new Session(id));

        Assert.True(registry.Remove(1));
        Assert.False(registry.Remove(1));

        Assert.False(registry.TryGet(1, out _));
        Assert.Equal(0, registry.SlotCount);
        Assert.Equal(new RegistryStatistics { Count = 0, Additions = 1, Removals = 1 }, registry.GetStatistics());
        Assert.NotSame(session, registry.GetOrAdd(1, static id => new Session(id)));
    }

    [Fact]
    public void Remove_CollectedValue_ReturnsFalseAndCountsNoRemoval()
    {
        var registry = new WeakValueRegistry<int, Session>("t");
        GcAssert.Collected(AddDropped(registry, 1));

        Assert.False(registry.Remove(1));

        Assert.Equal(new RegistryStatistics { Additions = 1, Reclamations = 1 }, registry.GetStatistics());
    }

    [Fact]
    public void GetOrAdd_FactoryThrows_StoresNothingAndLaterCallsSucceed()
    {
        var registry = new WeakValueRegistry<int, Session>("t");
        Session other = registry.GetOrAdd(2, static id => new Session(id));

        Assert.Throws<TimeoutException>(() => registry.GetOrAdd(1, static _ => throw new TimeoutException()));

        Assert.False(registry.TryGet(1, out _));
        Assert.Equal(new RegistryStatistics { Count = 1, Additions = 1 }, registry.GetStatistics());
        Assert.Equal(1, registry.GetOrAdd(1, static id => new Session(id)).Id);
        Assert.True(registry.TryGet(2, out Session? stillThere));
        Assert.Same(other, stillThere);
    }

    [Fact]
    public void GetOrAdd_FactoryReturnsNull_ThrowsAndStoresNothing()
    {
        var registry = new WeakValueRegistry<int, Session>("t");

        var thrown = Assert.Throws<InvalidOperationException>(() => registry.GetOrAdd(1, static _ => null!));

        Assert.Contains("null", thrown.Message, StringComparison.Ordinal);
        Assert.False(registry.TryGet(1, out _));
        Assert.Equal(0, registry.GetStatistics().Additions);
    }

    [Fact]
    public async Task GetOrAdd_FactoryReentersForTheSameKey_ThrowsInsteadOfDeadlocking()
    {
        var registry = new WeakValueRegistry<int, Session>("t");

        Task run = Task.Run(() => Assert.Throws<InvalidOperationException>(
            () => registry.GetOrAdd(1, id => registry.GetOrAdd(id, static i => new Session(i)))));

        // WaitAsync throws TimeoutException if the re-entrant call deadlocked.
        await run.WaitAsync(s_deadlockLimit);
        Assert.False(registry.TryGet(1, out _));
        Assert.Equal(1, registry.GetOrAdd(1, static id => new Session(id)).Id);
    }

    [Fact]
    public void GetOrAdd_FactoryRemovesOrAddsItsOwnKey_Throws()
    {
        var registry = new WeakValueRegistry<int, Session>("t");

        Assert.Throws<InvalidOperationException>(() => registry.GetOrAdd(1, id => { registry.Remove(id); return new Session(id); }));
        Assert.Throws<InvalidOperationException>(() => registry.GetOrAdd(1, id => { registry.TryAdd(id, new Session(id)); return new Session(id); }));

        Assert.Equal(0, registry.Count);
    }

    [Fact]
    public void GetOrAdd_FactoryUsesAnotherKey_Succeeds()
    {
        var registry = new WeakValueRegistry<int, Session>("t");

        Session outer = registry.GetOrAdd(1, id => new Session(id + registry.GetOrAdd(2, static i => new Session(i)).Id));

        Assert.Equal(3, outer.Id);
        Assert.Equal(2, registry.Count);
    }

    [Fact]
    public async Task GetOrAdd_ConcurrentCallersForOneKey_RunTheFactoryOnceAndShareTheInstance()
    {
        var registry = new WeakValueRegistry<int, Session>("t");
        using var factoryEntered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        int calls = 0;
        Session Create(int id)
        {
            Interlocked.Increment(ref calls);
            factoryEntered.Set();
            Assert.True(release.Wait(s_deadlockLimit));
            return new Session(id);
        }

        Task<Session> first = Task.Run(() => registry.GetOrAdd(1, Create));
        Assert.True(factoryEntered.Wait(s_deadlockLimit));
        Task<Session>[] waiters = Enumerable.Range(0, 3).Select(_ => Task.Run(() => registry.GetOrAdd(1, Create))).ToArray();
        Thread.Sleep(50);
        release.Set();

        Session[] results = await Task.WhenAll([first, .. waiters]).WaitAsync(s_deadlockLimit);
        Assert.Equal(1, calls);
        Assert.All(results, result => Assert.Same(results[0], result));
    }

    [Fact]
    public async Task GetOrAdd_FactoryThrowsWhileOthersWait_AWaiterRunsItsOwnFactory()
    {
        var registry = new WeakValueRegistry<int, Session>("t");
        using var factoryEntered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();

        Task<Session> failing = Task.Run(() => registry.GetOrAdd(1, _ =>
        {
            factoryEntered.Set();
            Assert.True(release.Wait(s_deadlockLimit));
            throw new InvalidOperationException("first factory fails");
        }));
        Assert.True(factoryEntered.Wait(s_deadlockLimit));
        Task<Session> waiter = Task.Run(() => registry.GetOrAdd(1, static id => new Session(id)));
        Thread.Sleep(50);
        release.Set();

        await Assert.ThrowsAsync<InvalidOperationException>(() => failing.WaitAsync(s_deadlockLimit));
        Session created = await waiter.WaitAsync(s_deadlockLimit);
        Assert.True(registry.TryGet(1, out Session? stored));
        Assert.Same(created, stored);
    }

    [Fact]
    public void Members_NullArguments_ThrowArgumentNullException()
    {
        var registry = new WeakValueRegistry<string, Session>("t");

        Assert.Equal("key", Assert.Throws<ArgumentNullException>(() => registry.TryGet(null!, out _)).ParamName);
        Assert.Equal("key", Assert.Throws<ArgumentNullException>(() => registry.GetOrAdd(null!, static _ => new Session(1))).ParamName);
        Assert.Equal("factory", Assert.Throws<ArgumentNullException>(() => registry.GetOrAdd("a", null!)).ParamName);
        Assert.Equal("factory", Assert.Throws<ArgumentNullException>(() => registry.GetOrAdd("a", (Func<string, int, Session>)null!, 0)).ParamName);
        Assert.Equal("key", Assert.Throws<ArgumentNullException>(() => registry.TryAdd(null!, new Session(1))).ParamName);
        Assert.Equal("value", Assert.Throws<ArgumentNullException>(() => registry.TryAdd("a", null!)).ParamName);
        Assert.Equal("key", Assert.Throws<ArgumentNullException>(() => registry.Remove(null!)).ParamName);
        Assert.Equal("options", Assert.Throws<ArgumentNullException>(() => new WeakValueRegistry<string, Session>((RegistryOptions)null!)).ParamName);
        Assert.Equal(0, registry.SlotCount);
    }

    [Fact]
    public void GetStatistics_WithMeterFactory_PublishesRegistryInstruments()
    {
        using var factory = new TestMeterFactory();
        var registry = new WeakValueRegistry<int, Session>(new RegistryOptions { Name = "sessions", MeterFactory = factory });
        using var recorder = new MetricRecorder(SafeMemMeter.Resolve(factory));
        Session kept = registry.GetOrAdd(1, static id => new Session(id));
        registry.GetOrAdd(2, static id => new Session(id));
        registry.Remove(2);
        GcAssert.Collected(AddDropped(registry, 3));

        Assert.Equal(1, recorder.ObserveValue("safemem.registry.entry.count", "sessions"));
        Assert.Equal(3, recorder.ObserveValue("safemem.registry.additions", "sessions"));
        Assert.Equal(1, recorder.ObserveValue("safemem.registry.removals", "sessions"));
        Assert.Equal(1, recorder.ObserveValue("safemem.registry.reclamations", "sessions"));
        GC.KeepAlive(kept);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference AddDropped(WeakValueRegistry<int, Session> registry, int key)
        => new(registry.GetOrAdd(key, static id => new Session(id)));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference AddDropped(Dictionary<int, Session> dictionary, int key)
    {
        var session = new Session(key);
        dictionary.Add(key, session);
        return new WeakReference(session);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference[] AddDroppedRange(WeakValueRegistry<int, Session> registry, int start, int count)
    {
        var references = new WeakReference[count];
        for (int i = 0; i < count; i++)
        {
            references[i] = new WeakReference(registry.GetOrAdd(start + i, static id => new Session(id)));
        }

        return references;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference CreateDroppedRegistry()
    {
        var registry = new WeakValueRegistry<int, Session>("dropped");
        for (int i = 0; i < 10; i++)
        {
            registry.GetOrAdd(i, static id => new Session(id));
        }

        _ = registry.GetStatistics();
        return new WeakReference(registry);
    }

    private sealed record Session(int Id);
}
