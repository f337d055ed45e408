using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using SafeMem.Attachments;

namespace SafeMem.Benchmarks.Attachments;

/// <summary>
/// One attach-and-detach cycle (an add followed by a remove, so the table's size stays constant) against a table of
/// 1,024 other owners: the raw <see cref="ConditionalWeakTable{TKey, TValue}"/> (baseline), Attachment.Set and
/// GetOrAdd (miss), and a Dictionary under a lock.
/// </summary>
[MemoryDiagnoser]
public class AttachmentAddBenchmarks
{
    private static readonly Func<object, int> s_factory = static _ => 1;

    private readonly ConditionalWeakTable<object, StrongBox<int>> _table = new();
    private readonly Attachment<object, int> _attachment = new("bench");
    private readonly Dictionary<object, int> _dictionary = new(ReferenceEqualityComparer.Instance);
    private readonly object _lock = new();
    private readonly object _owner = new();
    private object[] _others = [];

    [GlobalSetup]
    public void Setup()
    {
        _others = Enumerable.Range(0, 1024).Select(_ => new object()).ToArray();
        foreach (object other in _others)
        {
            _table.Add(other, new StrongBox<int>(0));
            _attachment.Set(other, 0);
            _dictionary.Add(other, 0);
        }
    }

    [Benchmark(Baseline = true)]
    public bool ConditionalWeakTable_AddRemove()
    {
        _table.Add(_owner, new StrongBox<int>(1));
        return _table.Remove(_owner);
    }

    [Benchmark]
    public bool Attachment_SetRemove()
    {
        _attachment.Set(_owner, 1);
        return _attachment.Remove(_owner);
    }

    [Benchmark]
    public bool Attachment_GetOrAddRemove()
    {
        _attachment.GetOrAdd(_owner, s_factory);
        return _attachment.Remove(_owner);
    }

    [Benchmark]
    public bool LockedDictionary_AddRemove()
    {
        lock (_lock)
        {
            _dictionary.Add(_owner, 1);
            return _dictionary.Remove(_owner);
        }
    }
}
