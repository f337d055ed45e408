using BenchmarkDotNet.Attributes;
using SafeMem.Disposal;

namespace SafeMem.Benchmarks.Disposal;

/// <summary>
/// One unit of work's cleanup: add 10 disposables, then dispose them all in reverse order. The baseline is the
/// hand-written equivalent, a <see cref="List{T}"/> of <see cref="IDisposable"/> disposed in a reverse loop (no
/// exception aggregation, no thread-safety, no duplicate check).
/// </summary>
[MemoryDiagnoser]
public class DisposalScopeBenchmarks
{
    private const int Items = 10;
    private readonly IDisposable[] _items = Enumerable.Range(0, Items).Select(_ => (IDisposable)new NoOpDisposable()).ToArray();

    [Benchmark(Baseline = true)]
    public int ListOfDisposables_AddAndDispose()
    {
        var list = new List<IDisposable>();
        foreach (IDisposable item in _items)
        {
            list.Add(item);
        }

        for (int i = list.Count - 1; i >= 0; i--)
        {
            list[i].Dispose();
        }

        return list.Count;
    }

    [Benchmark]
    public int DisposalScope_AddAndDispose()
    {
        var scope = new DisposalScope("bench");
        foreach (IDisposable item in _items)
        {
            scope.Add(item);
        }

        scope.Dispose();
        return scope.Count;
    }

    private sealed class NoOpDisposable : IDisposable
    {
        public void Dispose()
        {
        }
    }
}
