// One HybridCache node, registered as docs/scaling-out.md recommends (with or without the Redis backplane), driven
// over stdin/stdout by a test in another process. Commands are lines "<id> <verb> <arguments>"; every reply line starts
// with the command's id, and commands run concurrently (a "watch" goes on while other commands are answered).
//
//   get <key>                      -> <id> ok <value> <microseconds>        (a miss runs the factory: "factory:<name>")
//   set <key> <value>              -> <id> ok <timestamp> <microseconds>    (or "<id> error <exception> <timestamp> <microseconds>")
//   remove <key>                   -> <id> ok <timestamp> <microseconds>    (or an error, as above)
//   watch <key> <expected> <ms>    -> <id> started, then <id> seen <timestamp> (or "<id> timeout <last value>"):
//                                     reads the key every millisecond until it reads <expected>
//   stats                          -> <id> ok connected=<bool> pending=<n> reconnections=<n> received=<n> sent=<n> l1=<n>
//
// Timestamps are Stopwatch.GetTimestamp(): on Linux the monotonic clock, the same in every process on the machine, so
// a test can subtract one node's timestamp from another's.
//
// Arguments: --redis <endpoint> --name <name> [--backplane] [--prefix <channel prefix>] [--probe-ms <n>]
//            [--disconnected-ms <n>] [--timeout-ms <n>] [--break-ms <n>]
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using SafeMem.Extensions.Backplane;
using SafeMem.Extensions.Caching;
using SafeMem.Extensions.Hybrid.Tests.Docs;

Dictionary<string, string> options = ParseArguments(args);
string name = options["--name"];
string redisEndPoint = options["--redis"];
bool withBackplane = options.ContainsKey("--backplane");

var services = new ServiceCollection();
if (withBackplane)
{
    ScalingOutSnippets.RecommendedWithBackplane(services, redisEndPoint);
}
else
{
    ScalingOutSnippets.Recommended(services, redisEndPoint);
}

services.Configure<BoundedMemoryCacheOptions>(o => o.Name = name);
services.Configure<ResilientDistributedCacheOptions>(o =>
{
    o.Name = name + "-l2";
    o.Timeout = Milliseconds("--timeout-ms") ?? o.Timeout;
    o.BreakDuration = Milliseconds("--break-ms") ?? o.BreakDuration;
});
if (withBackplane)
{
    services.Configure<RedisBackplaneOptions>(o =>
    {
        o.Name = name + "-backplane";
        o.ChannelPrefix = options.GetValueOrDefault("--prefix", o.ChannelPrefix);
        o.ProbeInterval = Milliseconds("--probe-ms") ?? o.ProbeInterval;
        o.DisconnectedLocalCacheExpiration = Milliseconds("--disconnected-ms") ?? o.DisconnectedLocalCacheExpiration;
    });
}

await using ServiceProvider provider = services.BuildServiceProvider();
var l2 = (ResilientDistributedCache)provider.GetRequiredKeyedService<IDistributedCache>(SafeMemHybridCacheServiceCollectionExtensions.DistributedCacheServiceKey);
RedisBackplane? backplane = provider.GetService<RedisBackplane>();
BoundedMemoryCache l1 = provider.GetRequiredService<BoundedMemoryCache>();
string factoryValue = "factory:" + name;
var output = new object();

// Ready once Redis answers through the wrapper and, with the backplane, the node hears its own probe. HybridCache is
// built only then: it reads its wildcard tag record when built, and a read that fails (Redis still connecting, past the
// 50 ms timeout) makes it take "everything invalidated now", so it would reject what other nodes wrote before.
var clock = Stopwatch.StartNew();
while (true)
{
    try
    {
        await l2.GetAsync("wait-for-redis");
        if (backplane is null || backplane.IsConnected)
        {
            break;
        }
    }
    catch (Exception) when (clock.Elapsed < TimeSpan.FromSeconds(30))
    {
    }

    if (clock.Elapsed > TimeSpan.FromSeconds(30))
    {
        Console.Error.WriteLine($"{name}: Redis or the backplane did not answer within 30 s.");
        return 1;
    }

    await Task.Delay(20);
}

HybridCache cache = provider.GetRequiredService<HybridCache>();
Reply("-", "ready", Environment.ProcessId.ToString(CultureInfo.InvariantCulture));

var running = new List<Task>();
while (Console.ReadLine() is { } line)
{
    string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    if (parts.Length < 2)
    {
        continue;
    }

    if (parts[1] == "exit")
    {
        break;
    }

    running.Add(Task.Run(() => RunAsync(parts)));
}

await Task.WhenAll(running);
return 0;

async Task RunAsync(string[] command)
{
    string id = command[0];
    try
    {
        switch (command[1])
        {
            case "get":
            {
                long start = Stopwatch.GetTimestamp();
                string value = await ReadAsync(command[2]);
                Reply(id, "ok", value, Microseconds(start));
                break;
            }

            case "set":
            case "remove":
            {
                long start = Stopwatch.GetTimestamp();
                try
                {
                    if (command[1] == "set")
                    {
                        await cache.SetAsync(command[2], command[3]);
                    }
                    else
                    {
                        await cache.RemoveAsync(command[2]);
                    }

                    Reply(id, "ok", Stopwatch.GetTimestamp().ToString(CultureInfo.InvariantCulture), Microseconds(start));
                }
                catch (Exception exception)
                {
                    Reply(id, "error", exception.GetType().Name, Stopwatch.GetTimestamp().ToString(CultureInfo.InvariantCulture), Microseconds(start));
                }

                break;
            }

            case "watch":
            {
                string key = command[2], expected = command[3];
                TimeSpan limit = TimeSpan.FromMilliseconds(int.Parse(command[4], CultureInfo.InvariantCulture));
                Reply(id, "started");
                var watch = Stopwatch.StartNew();
                string value;
                while ((value = await ReadAsync(key)) != expected)
                {
                    if (watch.Elapsed > limit)
                    {
                        Reply(id, "timeout", value);
                        return;
                    }

                    await Task.Delay(1);
                }

                Reply(id, "seen", Stopwatch.GetTimestamp().ToString(CultureInfo.InvariantCulture));
                break;
            }

            case "stats":
            {
                RedisBackplaneStatistics? statistics = backplane?.GetStatistics();
                Reply(
                    id,
                    "ok",
                    $"connected={statistics?.IsConnected ?? false}",
                    $"pending={statistics?.PendingChanges ?? 0}",
                    $"reconnections={statistics?.Reconnections ?? 0}",
                    $"received={statistics?.Received ?? 0}",
                    $"sent={statistics?.Sent ?? 0}",
                    $"removedwhiledisconnected={statistics?.RemovedWhileDisconnected ?? 0}",
                    $"l1={l1.Count}");
                break;
            }

            default:
                Reply(id, "error", "unknown-command");
                break;
        }
    }
    catch (Exception exception)
    {
        Reply(id, "error", exception.GetType().Name);
    }
}

ValueTask<string> ReadAsync(string key)
    => cache.GetOrCreateAsync(key, factoryValue, static (value, _) => ValueTask.FromResult(value));

void Reply(string id, params string[] words)
{
    lock (output)
    {
        Console.Out.WriteLine(id + " " + string.Join(' ', words));
        Console.Out.Flush();
    }
}

static string Microseconds(long start) => ((long)Stopwatch.GetElapsedTime(start).TotalMicroseconds).ToString(CultureInfo.InvariantCulture);

TimeSpan? Milliseconds(string option)
    => options.TryGetValue(option, out string? value) ? TimeSpan.FromMilliseconds(int.Parse(value, CultureInfo.InvariantCulture)) : null;

static Dictionary<string, string> ParseArguments(string[] args)
{
    var parsed = new Dictionary<string, string>(StringComparer.Ordinal);
    for (int i = 0; i < args.Length; i++)
    {
        bool hasValue = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal);
        parsed[args[i]] = hasValue ? args[++i] : "";
    }

    return parsed;
}
