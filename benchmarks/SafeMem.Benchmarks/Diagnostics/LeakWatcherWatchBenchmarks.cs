using BenchmarkDotNet.Attributes;
using SafeMem.Diagnostics;

namespace SafeMem.Benchmarks.Diagnostics;

/// <summary>
/// <see cref="LeakWatcher.Watch"/> of an object that then dies, beside the BCL's way to hold one weakly: allocating a
/// <see cref="WeakReference"/> to it. Each operation allocates the target too (the same 24-byte object on both sides).
/// </summary>
/// <remarks>
/// The synchronous cost only: the watcher judges its records later, after the full collections BenchmarkDotNet forces
/// between iterations, on the thread pool; a <see cref="WeakReference"/>'s handle is freed by its finalizer, also later.
/// <see cref="LeakWatcherAmortizedBenchmarks"/> puts those costs back in. Telemetry has no on/off column: the watcher's
/// instruments are read only when a listener collects, and <see cref="LeakWatcher.Watch"/> touches no instrument.
/// </remarks>
[MemoryDiagnoser]
public class LeakWatcherWatchBenchmarks
{
    private const int Batch = 1_000;
    private readonly WeakReference[] _references = new WeakReference[Batch];
    private LeakWatcher _watcher = null!;

    [GlobalSetup]
    public void Setup() => _watcher = new LeakWatcher("benchmark");

    [GlobalCleanup]
    public void Cleanup() => _watcher.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Batch)]
    public WeakReference WeakReference_New()
    {
        // Kept until the next batch overwrites it: the reference outlives its target, as the watcher's record does.
        for (int i = 0; i < Batch; i++)
        {
            _references[i] = new WeakReference(new object());
        }

        return _references[0];
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public bool LeakWatcher_Watch()
    {
        bool watched = false;
        for (int i = 0; i < Batch; i++)
        {
            watched = _watcher.Watch(new object(), "benchmark");
        }

        return watched;
    }
}
