using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using SafeMem.Attachments;
using SafeMem.Registries;

namespace SafeMem.Benchmarks.Attachments;

/// <summary>
/// A lookup hit on a table of 1,024 owners: the raw <see cref="ConditionalWeakTable{TKey, TValue}"/> (the baseline; a
/// StrongBox because its values must be classes, the same indirection Attachment pays), Attachment.TryGet and
/// GetOrAdd, WeakKeyedRegistry.TryGet, and the leaky alternative: a Dictionary under a lock.
/// </summary>
[MemoryDiagnoser]
public class AttachmentLookupBenchmarks
{
    private static readonly Func<object, int> s_factory = static _ => 1;

    private readonly ConditionalWeakTable<object, StrongBox<int>> _table = new();
    private readonly Attachment<object, int> _attachment = new("bench");
    private readonly WeakKeyedRegistry<object, int> _registry = new("bench");
    private readonly Dictionary<object, int> _dictionary = new(ReferenceEqualityComparer.Instance);
    private readonly object _lock = new();
    private object[] _owners = [];
    private object _owner = null!;

    [GlobalSetup]
    public void Setup()
    {
        _owners = Enumerable.Range(0, 1024).Select(_ => new object()).ToArray();
        for (int i = 0; i < _owners.Length; i++)
        {
            _table.Add(_owners[i], new StrongBox<int>(i));
            _attachment.Set(_owners[i], i);
            _registry.Set(_owners[i], i);
            _dictionary.Add(_owners[i], i);
        }

        _owner = _owners[517];
    }

    [Benchmark(Baseline = true)]
    public int ConditionalWeakTable_TryGetValue() => _table.TryGetValue(_owner, out StrongBox<int>? box) ? box.Value : -1;

    [Benchmark]
    public int Attachment_TryGet() => _attachment.TryGet(_owner, out int value) ? value : -1;

    [Benchmark]
    public int Attachment_GetOrAdd_Hit() => _attachment.GetOrAdd(_owner, s_factory);

    [Benchmark]
    public int WeakKeyedRegistry_TryGet() => _registry.TryGet(_owner, out int value) ? value : -1;

    [Benchmark]
    public int LockedDictionary_TryGetValue()
    {
        lock (_lock)
        {
            return _dictionary.TryGetValue(_owner, out int value) ? value : -1;
        }
    }
}
