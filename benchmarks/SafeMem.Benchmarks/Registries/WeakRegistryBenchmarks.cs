using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using SafeMem.Registries;

namespace SafeMem.Benchmarks.Registries;

/// <summary>
/// Registering and unregistering one member of a set of 1,024 (the "every open connection" pattern): the raw
/// <see cref="ConditionalWeakTable{TKey, TValue}"/> (baseline), WeakRegistry, and a HashSet under a lock; plus the cost
/// of counting, which walks the registry.
/// </summary>
[MemoryDiagnoser]
public class WeakRegistryBenchmarks
{
    private static readonly object s_present = new();

    private readonly ConditionalWeakTable<object, object> _table = new();
    private readonly WeakRegistry<object> _registry = new("bench");
    private readonly HashSet<object> _set = new(ReferenceEqualityComparer.Instance);
    private readonly object _lock = new();
    private readonly object _member = new();
    private object[] _others = [];

    [GlobalSetup]
    public void Setup()
    {
        _others = Enumerable.Range(0, 1024).Select(_ => new object()).ToArray();
        foreach (object other in _others)
        {
            _table.Add(other, s_present);
            _registry.Add(other);
            _set.Add(other);
        }
    }

    [Benchmark(Baseline = true)]
    public bool ConditionalWeakTable_AddRemove()
    {
        _table.Add(_member, s_present);
        return _table.Remove(_member);
    }

    [Benchmark]
    public bool WeakRegistry_AddRemove()
    {
        _registry.Add(_member);
        return _registry.Remove(_member);
    }

    [Benchmark]
    public bool LockedHashSet_AddRemove()
    {
        lock (_lock)
        {
            _set.Add(_member);
            return _set.Remove(_member);
        }
    }

    [Benchmark]
    public int WeakRegistry_Count() => _registry.Count;
}
