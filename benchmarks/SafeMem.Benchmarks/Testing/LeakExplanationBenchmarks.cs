using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using SafeMem.Diagnostics.Heap;
using SafeMem.Testing;

namespace SafeMem.Benchmarks.Testing;

/// <summary>
/// What a leak assertion costs on a heap of a given size: passing (the collections only; baseline), failing with an
/// explanation (collections, a dump of the process, ClrMD reading it, the shortest retention path, the message), and
/// a heap snapshot (collection, dump, per-type totals). The heap is built of about a million small objects (a record
/// with a byte array each) held by a static array, plus one planted leak per invocation in a static list.
/// </summary>
/// <remarks>
/// One invocation per iteration (a dump suspends the process for a second or more; averaging many would take
/// minutes), few iterations: <see cref="RunStrategy.Monitoring"/>. In process: the benchmark dumps the process it runs
/// in, exactly as a test does, and no boilerplate project has to be built.
/// </remarks>
[MemoryDiagnoser]
[Config(typeof(SmallJob))]
public class LeakExplanationBenchmarks
{
    private static readonly List<LeakedItem> s_leaks = [];
    private static Ballast[] s_ballast = [];

    /// <summary>The approximate size of the live heap, in megabytes.</summary>
    [Params(0, 100)]
    public int HeapMegabytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        // Each ballast object plus its array is about 200 bytes: 5,000 of them per megabyte.
        s_ballast = new Ballast[HeapMegabytes * 5_000];
        var random = new Random(42);
        for (int i = 0; i < s_ballast.Length; i++)
        {
            s_ballast[i] = new Ballast(new byte[random.Next(120, 200)]);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        s_ballast = [];
        s_leaks.Clear();
    }

    [Benchmark(Baseline = true)]
    public void Passing() => LeakAssert.Collected(static () => new LeakedItem());

    [Benchmark]
    public int FailingWithExplanation()
    {
        try
        {
            LeakAssert.Collected(static () =>
            {
                var item = new LeakedItem();
                s_leaks.Add(item);
                return item;
            });
        }
        catch (LeakException failure)
        {
            return failure.RetentionPaths.Count;
        }

        throw new InvalidOperationException("The planted leak was not reported.");
    }

    [Benchmark]
    public long Snapshot()
    {
        using HeapSnapshot snapshot = HeapSnapshot.Take();
        return snapshot.TotalBytes;
    }

    public sealed class LeakedItem
    {
        public int Id { get; set; }
    }

    private sealed class Ballast(byte[] data)
    {
        public byte[] Data { get; } = data;
    }

    private sealed class SmallJob : ManualConfig
    {
        public SmallJob()
            => AddJob(Job.Default
                .WithStrategy(RunStrategy.Monitoring)
                .WithLaunchCount(1)
                .WithWarmupCount(1)
                .WithIterationCount(5)
                .WithToolchain(InProcessEmitToolchain.Instance));
    }
}
