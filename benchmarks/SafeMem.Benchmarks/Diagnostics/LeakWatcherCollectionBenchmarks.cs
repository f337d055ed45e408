using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using SafeMem.Diagnostics;

namespace SafeMem.Benchmarks.Diagnostics;

/// <summary>
/// What a full collection costs with 100,000 watched objects pending (alive, not yet due): one blocking gen2
/// collection, its finalizers, and, for the watcher, the callback and the sweep it schedules, waited for. Beside it the
/// same collection with the objects held strongly only (the baseline: what the program pays anyway), and with one
/// <see cref="WeakReference"/> to each (what holding them weakly by hand costs).
/// </summary>
/// <remarks>
/// The watcher waits for 16 collections (<see cref="LeakWatcherOptions.MaximumRetainedAfterCollections"/>) so that no
/// record falls due during the measurement: this is the idle cost. Each measured operation is one collection of a fresh
/// setup, so every iteration sees the same state.
/// </remarks>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 3, iterationCount: 15, invocationCount: 1)]
public class LeakWatcherCollectionBenchmarks
{
    private object[] _objects = [];
    private WeakReference[]? _references;
    private LeakWatcher? _watcher;

    [Params(100_000)]
    public int Pending { get; set; }

    [IterationSetup(Target = nameof(Baseline_FullCollection))]
    public void SetupBaseline() => Hold();

    [IterationSetup(Target = nameof(WeakReferences_FullCollection))]
    public void SetupReferences()
    {
        Hold();
        _references = Array.ConvertAll(_objects, static o => new WeakReference(o));
        Settle();
    }

    [IterationSetup(Target = nameof(LeakWatcher_FullCollection))]
    public void SetupWatcher()
    {
        Hold();
        _watcher?.Dispose();
        _watcher = new LeakWatcher(new LeakWatcherOptions { Name = "idle", RetainedAfterCollections = LeakWatcherOptions.MaximumRetainedAfterCollections });
        foreach (object o in _objects)
        {
            _watcher.Watch(o, "pending");
        }

        Settle();
    }

    [GlobalCleanup]
    public void Cleanup() => _watcher?.Dispose();

    [Benchmark(Baseline = true)]
    public int Baseline_FullCollection() => FullCollection();

    [Benchmark]
    public int WeakReferences_FullCollection() => FullCollection() + _references!.Length;

    [Benchmark]
    public int LeakWatcher_FullCollection()
    {
        long sweeps = _watcher!.SweepCount;
        int collections = FullCollection();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        SpinWait spin = default;
        while (_watcher.SweepCount == sweeps)
        {
            // A sweep that never comes would hang the run: fail it instead.
            spin.SpinOnce();
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The watcher's sweep did not finish within 30 s of the collections.");
            }
        }

        return collections;
    }

    private static int FullCollection()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true);
        GC.WaitForPendingFinalizers();
        return GC.CollectionCount(2);
    }

    // The objects (and the records) promoted to generation 2 before the measurement, as long-pending ones would be.
    private static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }

    private void Hold()
    {
        _references = null;
        _objects = new object[Pending];
        for (int i = 0; i < _objects.Length; i++)
        {
            _objects[i] = new object();
        }

        Settle();
    }
}
