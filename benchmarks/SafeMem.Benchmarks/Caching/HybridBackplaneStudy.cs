using System.Diagnostics;
using System.Globalization;
using SafeMem.Extensions.Hybrid.Tests.Infrastructure;

namespace SafeMem.Benchmarks.Caching;

/// <summary>
/// How fast a change on one node reaches another over the Redis backplane: three nodes, each a process of its own
/// (the test host the integration tests start), over one throw-away redis-server. Node A sets (even changes) or removes
/// (odd ones) a key; node B, reading that key every millisecond, reports when it first serves the new state; both
/// report timestamps of the machine's one monotonic clock. Node C has no backplane: the control, which keeps serving
/// the old values. Registration as docs/scaling-out.md recommends, every backplane default.
/// </summary>
/// <remarks>
/// Needs redis-server (bash .ci/redis.sh) and the test host built for net10.0 (the tests build it; or
/// <c>dotnet build tests/SafeMem.Extensions.Hybrid.TestHost -c Release -f net10.0</c>). It is not a reference of this
/// program, so that BenchmarkDotNet's own builds of it stay short.
/// Usage: <c>hybrid-backplane [--changes N] [--timeout-ms N]</c> (changes default 1,000; the L2 timeout defaults to the
/// recommended 50 ms, which on a loaded machine now and then turns a read into a factory run: pass 1000 there).
/// </remarks>
public static class HybridBackplaneStudy
{
    public static void Run(string[] args) => RunAsync(args).GetAwaiter().GetResult();

    private static async Task RunAsync(string[] args)
    {
        int changes = Option(args, "--changes") ?? 1_000;
        string[] timeout = Option(args, "--timeout-ms") is { } milliseconds ? ["--timeout-ms", milliseconds.ToString(CultureInfo.InvariantCulture)] : [];
        Console.WriteLine($"Backplane between processes, {changes:N0} changes; {Environment.ProcessorCount} cores, .NET {Environment.Version}; L2 timeout {(timeout.Length > 0 ? timeout[1] + " ms" : "50 ms (recommended)")}.");

        using var redis = new SafeMem.Extensions.Hybrid.Tests.Infrastructure.RedisServer();
        NodeProcess[] nodes = await Task.WhenAll(
            NodeProcess.StartAsync(redis.EndPoint, "a", ["--backplane", .. timeout]),
            NodeProcess.StartAsync(redis.EndPoint, "b", ["--backplane", .. timeout]),
            NodeProcess.StartAsync(redis.EndPoint, "c", timeout));
        using NodeProcess a = nodes[0], b = nodes[1], c = nodes[2];

        string[] keys = [.. Enumerable.Range(0, changes).Select(i => "price" + i)];
        foreach (string key in keys)
        {
            await a.ChangeAsync(key, "v0");
        }

        while ((await a.StatsAsync())["pending"] != "0")
        {
            await Task.Delay(50);
        }

        await Task.Delay(500);
        var before = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string key in keys)
        {
            await b.GetAsync(key);
            before[key] = (await c.GetAsync(key)).Value;
        }

        List<double> latencies = [];
        int unseen = 0;
        for (int i = 0; i < changes; i++)
        {
            string? next = i % 2 == 0 ? "v1" : null;
            Task<long?> seen = await b.WatchAsync(keys[i], next ?? "factory:b", TimeSpan.FromSeconds(5));
            (_, long doneAt, _) = await a.ChangeAsync(keys[i], next);
            if (await seen is long seenAt)
            {
                latencies.Add((seenAt - doneAt) * 1_000.0 / Stopwatch.Frequency);
            }
            else
            {
                unseen++;
            }
        }

        int stale = 0;
        foreach (string key in keys)
        {
            stale += (await c.GetAsync(key)).Value == before[key] ? 1 : 0;
        }

        List<double> sorted = [.. latencies.Order()];
        Console.WriteLine();
        Console.WriteLine("| changes (sets and removes) | B serves the new state after: median | p90 | p99 | p99.9 | max | over 50 ms | not within 5 s |");
        Console.WriteLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        Console.WriteLine($"| {changes:N0} | {Percentile(sorted, 0.5):F2} ms | {Percentile(sorted, 0.9):F2} ms | {Percentile(sorted, 0.99):F2} ms | " +
            $"{Percentile(sorted, 0.999):F2} ms | {sorted[^1]:F2} ms | {sorted.Count(l => l > 50)} | {unseen} |");
        Console.WriteLine();
        Console.WriteLine($"Control, node C without the backplane: still served the value it held before the change for {stale:N0} of {changes:N0} keys.");
        Console.WriteLine($"B: {string.Join(", ", (await b.StatsAsync()).Select(p => p.Key + " " + p.Value))}");
    }

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];

    private static int? Option(string[] args, string name)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : null;
    }
}
