using System.Runtime.CompilerServices;
using SafeMem.Caching;
using SafeMem.Telemetry;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Caching;

/// <summary>
/// What leaves the cache is collectable; each scenario has a control showing the same objects stay alive while held.
/// </summary>
public abstract class BoundedCacheGcTests(EvictionPolicy policy)
{
    /// <summary>Gets the eviction policy every cache of these tests is built with.</summary>
    protected EvictionPolicy Policy { get; } = policy;

    private BoundedCache<Key, Payload> NewCache(int maximumCount, TestMeterFactory? factory = null)
        => new(new BoundedCacheOptions<Key, Payload> { EvictionPolicy = Policy, MaximumCount = maximumCount, MeterFactory = factory });

    [Fact]
    public void Evicted_KeyAndValueCollectable()
    {
        using BoundedCache<Key, Payload> cache = NewCache(maximumCount: 2);
        (WeakReference key, WeakReference value) = AddAndRead(cache, 1);

        AddAndRead(cache, 2);

        // Two more reads of 2 make 1 the victim under both policies (least recent, and less frequent by more than one use:
        // TinyLfu keeps a resident that is behind by one).
        cache.TryGet(new Key(2), out _);
        cache.TryGet(new Key(2), out _);
        AddAndRead(cache, 3);

        GcAssert.Collected(key, value);
        Assert.Equal(2, cache.Count);
    }

    [Fact]
    public void Evicted_Control_DictionaryKeepsThemAlive()
    {
        using BoundedCache<Key, Payload> cache = NewCache(maximumCount: 2);
        var strong = new Dictionary<Key, Payload>();
        (WeakReference key, WeakReference value) = AddAndRead(cache, 1, strong);

        AddAndRead(cache, 2);

        // Two more reads of 2 make 1 the victim under both policies (least recent, and less frequent by more than one use:
        // TinyLfu keeps a resident that is behind by one).
        cache.TryGet(new Key(2), out _);
        cache.TryGet(new Key(2), out _);
        AddAndRead(cache, 3);

        GcAssert.Alive(key);
        GcAssert.Alive(value);
        GC.KeepAlive(strong);
    }

    [Fact]
    public void Live_Control_CacheKeepsItsEntriesAlive()
    {
        using BoundedCache<Key, Payload> cache = NewCache(maximumCount: 2);
        (WeakReference key, WeakReference value) = AddAndRead(cache, 1);

        GcAssert.Alive(key);
        GcAssert.Alive(value);
        GC.KeepAlive(cache);
    }

    [Fact]
    public void Removed_KeyAndValueCollectable()
    {
        using BoundedCache<Key, Payload> cache = NewCache(maximumCount: 4);
        (WeakReference key, WeakReference value) = AddAndRead(cache, 1);

        Assert.True(RemoveById(cache, 1));

        GcAssert.Collected(key, value);
    }

    [Fact]
    public void Cleared_KeysAndValuesCollectable()
    {
        using BoundedCache<Key, Payload> cache = NewCache(maximumCount: 4);
        (WeakReference key1, WeakReference value1) = AddAndRead(cache, 1);
        (WeakReference key2, WeakReference value2) = AddAndRead(cache, 2);

        cache.Clear();

        GcAssert.Collected(key1, value1, key2, value2);
    }

    [Fact]
    public void Replaced_OldValueCollectable()
    {
        using BoundedCache<Key, Payload> cache = NewCache(maximumCount: 4);
        var key = new Key(1);
        WeakReference old = SetValue(cache, key);

        SetValue(cache, key);

        GcAssert.Collected(old);
        GC.KeepAlive(key);
    }

    [Fact]
    public void Disposed_LetsGoOfValuesEvenIfCacheStillReferenced()
    {
        var cache = NewCache(maximumCount: 4);
        (WeakReference key, WeakReference value) = AddAndRead(cache, 1);

        cache.Dispose();

        GcAssert.Collected(key, value);
        GC.KeepAlive(cache);
    }

    [Fact]
    public void DroppedCache_WhileListenerListens_IsCollected()
    {
        using var factory = new TestMeterFactory();
        using var recorder = new MetricRecorder(SafeMemMeter.Resolve(factory));
        WeakReference cache = CreateUseAndDrop(Policy, factory, recorder);

        Assert.True(GcAssert.TryCollect(cache), "The instruments kept a dropped cache alive.");
        Assert.DoesNotContain(recorder.Observe(), m => m.Name == "dropped");
    }

    [Fact]
    public void HeldCache_WhileListenerListens_StaysAliveAndReports()
    {
        using var factory = new TestMeterFactory();
        using var recorder = new MetricRecorder(SafeMemMeter.Resolve(factory));
        var held = new List<object>();
        WeakReference cache = CreateUseAndDrop(Policy, factory, recorder, held);

        GcAssert.Alive(cache);
        Assert.Contains(recorder.Observe(), m => m.Name == "dropped");
        GC.KeepAlive(held);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    [Fact]
    public void DisposeRemovedValues_LeasedAndLoadedValueLeftAndLeaseReleased_Collectable()
    {
        // The holder counts of a cache that disposes values hold the value only while an entry or a lease does.
        using BoundedCache<Key, DisposablePayload> cache = NewOwningCache();

        WeakReference value = LoadLeaseRemoveAndRelease(cache, 1);

        GcAssert.Collected(value);
        Assert.Equal(0, cache.CountLeases());
    }

    [Fact]
    public void DisposeRemovedValues_Control_LeaseStillHeld_StaysAlive()
    {
        using BoundedCache<Key, DisposablePayload> cache = NewOwningCache();
        (WeakReference value, CacheLease<DisposablePayload> lease) = LoadLeased(cache, 1);
        Assert.True(cache.TryRemove(new Key(1)));

        GcAssert.Alive(value);
        GC.KeepAlive(lease);
    }

    private BoundedCache<Key, DisposablePayload> NewOwningCache()
        => new(new BoundedCacheOptions<Key, DisposablePayload> { EvictionPolicy = Policy, MaximumCount = 4, DisposeRemovedValues = true });

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference LoadLeaseRemoveAndRelease(BoundedCache<Key, DisposablePayload> cache, int id)
    {
        (WeakReference value, CacheLease<DisposablePayload> lease) = LoadLeased(cache, id);
        Assert.True(cache.TryRemove(new Key(id)));
        lease.Dispose();
        return value;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (WeakReference Value, CacheLease<DisposablePayload> Lease) LoadLeased(BoundedCache<Key, DisposablePayload> cache, int id)
    {
        CacheLease<DisposablePayload> lease = cache.GetOrAddLease(new Key(id), static _ => new DisposablePayload());
        return (new WeakReference(lease.Value), lease);
    }

    private static (WeakReference Key, WeakReference Value) AddAndRead(BoundedCache<Key, Payload> cache, int id, Dictionary<Key, Payload>? strong = null)
    {
        var key = new Key(id);
        var value = new Payload();
        cache.Set(key, value);
        Assert.True(cache.TryGet(new Key(id), out _));
        strong?.Add(key, value);
        return (new WeakReference(key), new WeakReference(value));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference SetValue(BoundedCache<Key, Payload> cache, Key key)
    {
        var value = new Payload();
        cache.Set(key, value);
        cache.TryGet(key, out _);
        return new WeakReference(value);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool RemoveById(BoundedCache<Key, Payload> cache, int id) => cache.TryRemove(new Key(id));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference CreateUseAndDrop(EvictionPolicy policy, TestMeterFactory factory, MetricRecorder recorder, List<object>? holder = null)
    {
        var cache = new BoundedCache<Key, Payload>(new BoundedCacheOptions<Key, Payload> { EvictionPolicy = policy, Name = "dropped", MaximumCount = 4, MeterFactory = factory });
        cache.Set(new Key(1), new Payload());
        cache.TryGet(new Key(1), out _);
        Assert.Contains(recorder.Observe(), m => m.Name == "dropped");
        holder?.Add(cache);
        return new WeakReference(cache);
    }

    private sealed record Key(int Id);

    private sealed class DisposablePayload : IDisposable
    {
        private readonly byte[] _bytes = new byte[1024];

        public void Dispose() => GC.KeepAlive(_bytes);
    }

    private sealed class Payload
    {
        public byte[] Data { get; } = new byte[64];
    }

    /// <summary>Runs these tests under <see cref="EvictionPolicy.Lru"/>.</summary>
    public sealed class UnderLru() : BoundedCacheGcTests(EvictionPolicy.Lru);

    /// <summary>Runs these tests under <see cref="EvictionPolicy.TinyLfu"/>.</summary>
    public sealed class UnderTinyLfu() : BoundedCacheGcTests(EvictionPolicy.TinyLfu);
}
