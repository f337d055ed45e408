using System.Diagnostics;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using SafeMem.Extensions.Hybrid.Tests.Docs;
using SafeMem.Extensions.Hybrid.Tests.Infrastructure;

namespace SafeMem.Benchmarks.Caching;

/// <summary>
/// What a Redis outage costs two HybridCache nodes (two service providers over one throw-away redis-server): L1 hit
/// and miss latency with Redis up, killed (connections reset) and frozen (SIGSTOP: connections open, no answers), and
/// how long after Redis is back a value written through one node is read by the other from Redis again. The nodes are
/// registered as docs/scaling-out.md recommends (<see cref="ScalingOutSnippets.Recommended"/>, defaults untouched) and,
/// for comparison, with the plain three calls (<see cref="ScalingOutSnippets.Plain"/>), for a few misses only.
/// </summary>
/// <remarks>
/// Factories return a ready 1 KB array, so a miss's latency is what HybridCache and the L2 add to the factory.
/// Needs redis-server (bash .ci/redis.sh). Usage: <c>hybrid-outage [--misses N]</c> (misses measured per phase, default 300).
/// </remarks>
public static class HybridOutageStudy
{
    private const int ValueSize = 1_000;
    private const int WarmKeys = 200;
    private const int Hits = 20_000;

    public static void Run(string[] args) => RunAsync(args).GetAwaiter().GetResult();

    private static async Task RunAsync(string[] args)
    {
        int misses = args.Length >= 2 && args[0] == "--misses" ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 300;
        Console.WriteLine($"HybridCache over redis-server, two nodes; {Environment.ProcessorCount} cores, .NET {Environment.Version}; factories cost ~0; {misses} misses and {Hits:N0} L1 hits per phase.");
        Console.WriteLine();
        Console.WriteLine("| registration | Redis | L1 hit median / p99 | miss median / p99 / max | misses over 10 ms | sharing again after Redis is back |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- |");

        foreach (string outage in new[] { "killed", "frozen" })
        {
            using var redis = new RedisServer();
            using Node a = Node.Start(redis, ScalingOutSnippets.Recommended);
            using Node b = Node.Start(redis, ScalingOutSnippets.Recommended);
            await a.WaitForSharingAsync(b, "warm-up");
            await WarmAsync(a, b);
            if (outage == "killed")
            {
                await Row("recommended", "up", a, misses, "up-");
            }

            Stop(redis, outage);
            await Row("recommended", outage, a, misses, outage + "-", b, () => Restart(redis, outage));
        }

        {
            using var redis = new RedisServer();
            using Node a = Node.Start(redis, ScalingOutSnippets.Plain);
            using Node b = Node.Start(redis, ScalingOutSnippets.Plain);
            await a.WaitForSharingAsync(b, "warm-up");
            await WarmAsync(a, b);
            redis.Kill();
            await Row("plain (3 misses only)", "killed", a, 3, "plain-", b, redis.Start);
        }
    }

    private static async Task Row(string registration, string redisState, Node a, int misses, string prefix, Node? b = null, Action? restore = null)
    {
        List<double> hits = [];
        for (int i = 0; i < Hits; i++)
        {
            long start = Stopwatch.GetTimestamp();
            await a.ReadAsync("warm" + (i % WarmKeys));
            hits.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }

        List<double> missLatencies = [];
        for (int i = 0; i < misses; i++)
        {
            long start = Stopwatch.GetTimestamp();
            await a.ReadAsync(prefix + i);
            missLatencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }

        string recovery = "";
        if (restore is not null && b is not null)
        {
            restore();
            recovery = $"{(await a.WaitForSharingAsync(b, prefix + "probe")).TotalSeconds:F2} s";
        }

        int slow = missLatencies.Count(m => m > 10);
        Console.WriteLine($"| {registration} | {redisState} | {Percentile(hits, 0.5):F4} / {Percentile(hits, 0.99):F4} ms | " +
            $"{Percentile(missLatencies, 0.5):F2} / {Percentile(missLatencies, 0.99):F2} / {missLatencies.Max():F2} ms | {slow} of {misses} | {recovery} |");
    }

    private static async Task WarmAsync(Node a, Node b)
    {
        for (int i = 0; i < WarmKeys; i++)
        {
            await a.ReadAsync("warm" + i);
            await b.ReadAsync("warm" + i);
        }
    }

    private static void Stop(RedisServer redis, string outage)
    {
        if (outage == "killed")
        {
            redis.Kill();
        }
        else
        {
            redis.Freeze();
        }
    }

    private static void Restart(RedisServer redis, string outage)
    {
        if (outage == "killed")
        {
            redis.Start();
        }
        else
        {
            redis.Thaw();
        }
    }

    private static double Percentile(List<double> values, double p)
    {
        List<double> sorted = [.. values.Order()];
        return sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];
    }

    private sealed class Node : IDisposable
    {
        private readonly ServiceProvider _provider;
        private int _factoryRuns;

        private Node(ServiceProvider provider)
        {
            _provider = provider;
            Cache = provider.GetRequiredService<HybridCache>();
        }

        public HybridCache Cache { get; }

        public static Node Start(RedisServer redis, Action<IServiceCollection, string> register)
        {
            var services = new ServiceCollection();
            register(services, redis.EndPoint);
            return new Node(services.BuildServiceProvider());
        }

        public ValueTask<byte[]> ReadAsync(string key)
            => Cache.GetOrCreateAsync(key, this, static (node, _) =>
            {
                Interlocked.Increment(ref node._factoryRuns);
                return ValueTask.FromResult(new byte[ValueSize]);
            });

        /// <summary>Writes through this node and reads through <paramref name="other"/> until it gets the value from Redis.</summary>
        public async Task<TimeSpan> WaitForSharingAsync(Node other, string prefix)
        {
            var clock = Stopwatch.StartNew();
            for (int probe = 0; clock.Elapsed < TimeSpan.FromSeconds(60); probe++)
            {
                string key = prefix + probe;
                await Cache.SetAsync(key, new byte[ValueSize]);
                int before = Volatile.Read(ref other._factoryRuns);
                await other.ReadAsync(key);
                if (Volatile.Read(ref other._factoryRuns) == before)
                {
                    return clock.Elapsed;
                }

                await Task.Delay(10);
            }

            throw new TimeoutException("The nodes did not share through Redis within 60 s.");
        }

        public void Dispose() => _provider.Dispose();
    }
}
