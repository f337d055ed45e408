using System.Runtime.CompilerServices;
using SafeMem.Registries;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Registries;

public sealed class WeakKeyedRegistryTests
{
    [Fact]
    public void GetOrAdd_NewKey_AddsOnceThenReturnsTheStoredValue()
    {
        var registry = new WeakKeyedRegistry<Session, Stats>("t");
        var session = new Session(1);
        int calls = 0;

        Stats first = registry.GetOrAdd(session, s => { calls++; return new Stats(s); });
        Stats second = registry.GetOrAdd(session, static (s, _) => new Stats(s), 0);

        Assert.Same(first, second);
        Assert.Equal(1, calls);
        Assert.True(registry.ContainsKey(session));
    }

    [Fact]
    public void TryGet_EqualButDistinctKey_IsNotFound()
    {
        var registry = new WeakKeyedRegistry<Session, int>("t");
        var session = new Session(1);
        var twin = new Session(1);
        Assert.Equal(session, twin);
        registry.Set(session, 1);

        Assert.False(registry.TryGet(twin, out _));
        Assert.False(registry.ContainsKey(twin));
    }

    [Fact]
    public void Set_ThenRemove_ReplacesThenRemovesWithExactCounts()
    {
        var registry = new WeakKeyedRegistry<Session, int>("t");
        var session = new Session(1);

        Assert.True(registry.Set(session, 1));
        Assert.False(registry.Set(session, 2));
        Assert.True(registry.TryGet(session, out int value));
        Assert.Equal(2, value);
        Assert.True(registry.Remove(session));
        Assert.False(registry.Remove(session));

        Assert.Equal(new RegistryStatistics { Count = 0, Additions = 1, Removals = 1 }, registry.GetStatistics());
    }

    [Fact]
    public void GetEnumerator_LivePairs_YieldsEveryKeyWithItsValue()
    {
        var registry = new WeakKeyedRegistry<Session, int>("t");
        Session[] sessions = [new(1), new(2), new(3)];
        foreach (Session session in sessions)
        {
            registry.Set(session, session.Id * 10);
        }

        var pairs = registry.OrderBy(p => p.Key.Id).ToList();

        Assert.Equal(sessions, pairs.Select(p => p.Key));
        Assert.Equal([10, 20, 30], pairs.Select(p => p.Value));
        registry.Clear();
        Assert.Empty(registry);
        Assert.Equal(3, registry.GetStatistics().Removals);
    }

    [Fact]
    public void GetOrAdd_FactoryThrows_StoresNothing()
    {
        var registry = new WeakKeyedRegistry<Session, int>("t");
        var session = new Session(1);

        Assert.Throws<FormatException>(() => registry.GetOrAdd(session, static _ => throw new FormatException()));

        Assert.False(registry.ContainsKey(session));
        Assert.Equal(new RegistryStatistics(), registry.GetStatistics());
    }

    [Fact]
    public void GetOrAdd_FactoryReentersForTheSameKey_Throws()
    {
        var registry = new WeakKeyedRegistry<Session, int>("t");
        var session = new Session(1);

        Assert.Throws<InvalidOperationException>(() => registry.GetOrAdd(session, s => registry.GetOrAdd(s, static _ => 1)));

        Assert.Equal(0, registry.Count);
    }

    [Fact]
    public void GetOrAdd_KeyDropped_KeyAndValueReferringBackAreCollectedAndLeaveEnumeration()
    {
        var registry = new WeakKeyedRegistry<Session, Stats>("t");
        var kept = new Session(1);
        registry.GetOrAdd(kept, static s => new Stats(s));
        (WeakReference key, WeakReference value) = AddDropped(registry);

        GcAssert.Collected(key, value);

        Assert.Equal(1, registry.Count);
        Assert.Same(kept, Assert.Single(registry).Key);
        Assert.Equal(1, registry.GetStatistics().Reclamations);
    }

    [Fact]
    public void Control_Dictionary_KeepsDroppedKeyAlive()
    {
        var dictionary = new Dictionary<Session, Stats>();
        WeakReference key = AddDropped(dictionary);

        GcAssert.Alive(key);
        Assert.Single(dictionary);
    }

    [Fact]
    public void Members_NullArguments_ThrowArgumentNullException()
    {
        var registry = new WeakKeyedRegistry<Session, int>("t");
        var session = new Session(1);

        Assert.Equal("key", Assert.Throws<ArgumentNullException>(() => registry.TryGet(null!, out _)).ParamName);
        Assert.Equal("key", Assert.Throws<ArgumentNullException>(() => registry.ContainsKey(null!)).ParamName);
        Assert.Equal("key", Assert.Throws<ArgumentNullException>(() => registry.GetOrAdd(null!, static _ => 1)).ParamName);
        Assert.Equal("factory", Assert.Throws<ArgumentNullException>(() => registry.GetOrAdd(session, null!)).ParamName);
        Assert.Equal("factory", Assert.Throws<ArgumentNullException>(() => registry.GetOrAdd(session, (Func<Session, int, int>)null!, 0)).ParamName);
        Assert.Equal("key", Assert.Throws<ArgumentNullException>(() => registry.Set(null!, 1)).ParamName);
        Assert.Equal("key", Assert.Throws<ArgumentNullException>(() => registry.Remove(null!)).ParamName);
        Assert.Equal("options", Assert.Throws<ArgumentNullException>(() => new WeakKeyedRegistry<Session, int>((RegistryOptions)null!)).ParamName);
    }

    [Fact]
    public void RandomOperations_SeededSequence_MatchAnIdentityDictionaryModel()
    {
        var registry = new WeakKeyedRegistry<Session, int>("model");
        var model = new Dictionary<Session, int>(ReferenceEqualityComparer.Instance);
        // Pairs of equal-but-distinct keys make identity semantics part of every comparison.
        Session[] keys = Enumerable.Range(0, 32).Select(i => new Session(i / 2)).ToArray();
        var random = new Random(20261122);
        long additions = 0;
        long removals = 0;

        for (int step = 0; step < 5_000; step++)
        {
            Session key = keys[random.Next(keys.Length)];
            int value = random.Next(1000);
            switch (random.Next(5))
            {
                case 0:
                    bool added = registry.Set(key, value);
                    Assert.Equal(!model.ContainsKey(key), added);
                    additions += added ? 1 : 0;
                    model[key] = value;
                    break;
                case 1:
                    bool removed = registry.Remove(key);
                    Assert.Equal(model.Remove(key), removed);
                    removals += removed ? 1 : 0;
                    break;
                case 2:
                    additions += model.ContainsKey(key) ? 0 : 1;
                    Assert.Equal(model.TryGetValue(key, out int existing) ? existing : value, registry.GetOrAdd(key, _ => value));
                    model.TryAdd(key, value);
                    break;
                case 3:
                    Assert.Equal(model.TryGetValue(key, out int expected), registry.TryGet(key, out int actual));
                    Assert.Equal(expected, actual);
                    break;
                default:
                    if (random.Next(50) == 0)
                    {
                        removals += model.Count;
                        registry.Clear();
                        model.Clear();
                    }

                    break;
            }
        }

        var position = new Dictionary<Session, int>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < keys.Length; i++)
        {
            position[keys[i]] = i;
        }

        Assert.Equal(model.OrderBy(p => position[p.Key]), registry.OrderBy(p => position[p.Key]));
        Assert.Equal(new RegistryStatistics { Count = model.Count, Additions = additions, Removals = removals }, registry.GetStatistics());
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (WeakReference Key, WeakReference Value) AddDropped(WeakKeyedRegistry<Session, Stats> registry)
    {
        var session = new Session(99);
        Stats stats = registry.GetOrAdd(session, static s => new Stats(s));
        return (new WeakReference(session), new WeakReference(stats));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference AddDropped(Dictionary<Session, Stats> dictionary)
    {
        var session = new Session(99);
        dictionary.Add(session, new Stats(session));
        return new WeakReference(session);
    }

    private sealed record Session(int Id);

    private sealed class Stats(Session session)
    {
        public Session Session { get; } = session;
    }
}
