using BenchmarkDotNet.Attributes;
using SafeMem.Diagnostics;

namespace SafeMem.Benchmarks.Diagnostics;

/// <summary>
/// The whole life of a watched object that dies, amortized: watch 10,000 dying objects, then the two full collections
/// that make them due and the sweep that judges them (collected: handle freed, record dropped). The baseline does the
/// same with <see cref="WeakReference"/>s: allocate 10,000, then the same two full collections, whose finalizers free
/// their handles. Both sides pay the same collections, so the difference is the watcher's own work.
/// </summary>
[MemoryDiagnoser]
public class LeakWatcherAmortizedBenchmarks
{
    private const int Batch = 10_000;
    private readonly WeakReference[] _references = new WeakReference[Batch];
    private LeakWatcher _watcher = null!;

    [GlobalSetup]
    public void Setup() => _watcher = new LeakWatcher("amortized");

    [GlobalCleanup]
    public void Cleanup() => _watcher.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Batch)]
    public int WeakReference_NewThenTwoFullCollections()
    {
        for (int i = 0; i < Batch; i++)
        {
            _references[i] = new WeakReference(new object());
        }

        Array.Clear(_references);
        TwoFullCollections();
        return _references.Length;
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public long LeakWatcher_WatchThenTwoFullCollectionsAndTheSweep()
    {
        for (int i = 0; i < Batch; i++)
        {
            _watcher.Watch(new object(), "benchmark");
        }

        TwoFullCollections();

        // The sweep that judges them runs on the pool after the second collection: wait until nothing is pending.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        SpinWait spin = default;
        while (_watcher.PendingCount > 0)
        {
            // A sweep that never comes would hang the run: fail it instead.
            spin.SpinOnce();
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The watcher's sweep did not finish within 30 s of the collections.");
            }
        }

        return _watcher.SweepCount;
    }

    private static void TwoFullCollections()
    {
        for (int i = 0; i < 2; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true);
            GC.WaitForPendingFinalizers();
        }
    }
}
