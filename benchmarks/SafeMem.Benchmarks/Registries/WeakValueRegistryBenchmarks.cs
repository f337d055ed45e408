using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;
using SafeMem.Registries;

namespace SafeMem.Benchmarks.Registries;

/// <summary>
/// A hit on a registry of 1,024 live sessions keyed by id: a Dictionary under a lock (the baseline, which leaks),
/// a hand-rolled ConcurrentDictionary of WeakReferences, and WeakValueRegistry.TryGet and GetOrAdd.
/// </summary>
[MemoryDiagnoser]
public class WeakValueRegistryBenchmarks
{
    private static readonly Func<int, Session> s_factory = static id => new Session(id);

    private readonly Dictionary<int, Session> _dictionary = [];
    private readonly ConcurrentDictionary<int, WeakReference<Session>> _weakDictionary = new();
    private readonly WeakValueRegistry<int, Session> _registry = new("bench");
    private readonly object _lock = new();
    private Session[] _sessions = [];

    [GlobalSetup]
    public void Setup()
    {
        _sessions = Enumerable.Range(0, 1024).Select(static id => new Session(id)).ToArray();
        foreach (Session session in _sessions)
        {
            _dictionary.Add(session.Id, session);
            _weakDictionary[session.Id] = new WeakReference<Session>(session);
            _registry.TryAdd(session.Id, session);
        }
    }

    [Benchmark(Baseline = true)]
    public Session? LockedDictionary_TryGetValue()
    {
        lock (_lock)
        {
            return _dictionary.TryGetValue(517, out Session? session) ? session : null;
        }
    }

    [Benchmark]
    public Session? ConcurrentDictionaryOfWeakReferences_TryGet()
        => _weakDictionary.TryGetValue(517, out WeakReference<Session>? weak) && weak.TryGetTarget(out Session? session) ? session : null;

    [Benchmark]
    public Session? WeakValueRegistry_TryGet() => _registry.TryGet(517, out Session? session) ? session : null;

    [Benchmark]
    public Session WeakValueRegistry_GetOrAdd_Hit() => _registry.GetOrAdd(517, s_factory);

    public sealed record Session(int Id);
}
