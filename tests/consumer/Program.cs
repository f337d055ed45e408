// Uses each SafeMem package as an application would, then prints the Microsoft.Extensions assemblies it ran against so
// that .ci/consumer.sh can check the versions of those SafeMem depends on. Exits non-zero when a check fails.
using System.Diagnostics.Metrics;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using SafeMem.Caching;
using SafeMem.Events;
using SafeMem.Extensions.Caching;

int failures = 0;
void Check(bool passed, string what)
{
    Console.WriteLine($"{(passed ? "ok  " : "FAIL")} {what}");
    failures += passed ? 0 : 1;
}

var instruments = new HashSet<string>();
using var listener = new MeterListener
{
    InstrumentPublished = (instrument, _) =>
    {
        if (instrument.Meter.Name == "SafeMem")
        {
            lock (instruments)
            {
                instruments.Add(instrument.Name);
            }
        }
    },
};
listener.Start();

// SafeMem: a bounded cache stays within its bound.
using (var cache = new BoundedCache<int, string>(new BoundedCacheOptions<int, string> { Name = "consumer", MaximumCount = 2 }))
{
    for (int i = 0; i < 3; i++)
    {
        cache.Set(i, i.ToString());
    }

    Check(cache.Count == 2 && !cache.TryGet(0, out _) && cache.GetStatistics().Evictions == 1,
        "SafeMem: BoundedCache evicts its least recently used entry past MaximumCount");
}

// SafeMem: a weak event source does not keep its subscriber alive.
var prices = new WeakEventSource<EventArgs>("consumer-prices");
WeakReference subscriber = Subscribe(prices);
GC.Collect();
GC.WaitForPendingFinalizers();
GC.Collect();
prices.Raise(null, EventArgs.Empty);
Check(!subscriber.IsAlive && Subscriber.Calls == 0, "SafeMem: WeakEventSource lets its subscriber be collected");

// SafeMem.Extensions: the application's IMemoryCache, through the Microsoft.Extensions container, is bounded.
var services = new ServiceCollection();
services.AddSafeMemCache(options =>
{
    options.Name = "consumer-app";
    options.MaximumCount = 2;
});
using (ServiceProvider provider = services.BuildServiceProvider())
{
    var memoryCache = provider.GetRequiredService<IMemoryCache>();
    for (int i = 0; i < 3; i++)
    {
        memoryCache.Set(i, i);
    }

    Check(memoryCache is BoundedMemoryCache { Count: 2 } && !memoryCache.TryGetValue(0, out _),
        "SafeMem.Extensions: AddSafeMemCache makes IMemoryCache bounded");
}

// SafeMem + SafeMem.Extensions: a leak watcher, registered in the container, finds a scoped service a singleton kept
// past its scope; explaining it needs SafeMem.Diagnostics.Heap, which this run may not reference.
var watched = new ServiceCollection();
watched.AddSingleton<Keeper>();
watched.AddScoped<Request>();
watched.AddSafeMemLeakWatcher(options =>
{
    options.Name = "consumer-watcher";
    options.WatchScopedServices = true;
});
s_container = watched.BuildServiceProvider();
var leakWatcher = s_container.GetRequiredService<SafeMem.Diagnostics.LeakWatcher>();
ServeTwoRequests(s_container);
for (int i = 0; i < 20 && leakWatcher.GetStatistics().Pending > 0; i++)
{
    GC.Collect();
    GC.WaitForPendingFinalizers();
    Thread.Sleep(20 * i);
}

Check(leakWatcher.GetStatistics() is { Watched: 2, Collected: 1, Retained: 1 },
    $"SafeMem.Extensions: AddSafeMemLeakWatcher reports the scoped service a singleton kept ({leakWatcher.GetStatistics()})");
try
{
    SafeMem.Diagnostics.LeakAnalysis analysis = leakWatcher.AnalyzeAsync().GetAwaiter().GetResult();
#if SAFEMEM_TESTING
    Check(analysis.Leaks is [{ Count: 1 } leak] && leak.References.Any(r => r.Contains("Keeper", StringComparison.Ordinal)),
        "SafeMem.Diagnostics.Heap: LeakWatcher.AnalyzeAsync finds the package's explainer by name and names the singleton");
#else
    Check(false, $"SafeMem: AnalyzeAsync without SafeMem.Diagnostics.Heap returned {analysis.RetainedCount} objects instead of naming the package");
#endif
}
catch (InvalidOperationException missing)
{
#if SAFEMEM_TESTING
    Check(false, $"SafeMem.Diagnostics.Heap: AnalyzeAsync threw {missing.Message}");
#else
    Check(missing.Message.Contains("add a reference to the SafeMem.Diagnostics.Heap package", StringComparison.Ordinal),
        "SafeMem: LeakWatcher.AnalyzeAsync without SafeMem.Diagnostics.Heap says which package to reference");
#endif
}

s_container.Dispose();

#if SAFEMEM_TESTING
// SafeMem.Testing: a leak assertion on an object nothing keeps alive passes.
try
{
    SafeMem.Testing.LeakAssert.Collected(static () => new object());
    Check(true, "SafeMem.Testing: LeakAssert.Collected passes for an unreferenced object");
}
catch (Exception exception)
{
    Check(false, $"SafeMem.Testing: LeakAssert.Collected threw {exception.GetType().Name}: {exception.Message}");
}

// SafeMem.Diagnostics.Heap: the process dumps itself and reads the dump with the ClrMD its package brings.
try
{
    using SafeMem.Diagnostics.Heap.HeapSnapshot snapshot = SafeMem.Diagnostics.Heap.HeapSnapshot.Take();
    Check(snapshot.Find("string") is { Count: > 0 },
        "SafeMem.Diagnostics.Heap: a snapshot of the process counts its strings");
}
catch (Exception exception)
{
    Check(false, $"SafeMem.Diagnostics.Heap: HeapSnapshot.Take threw {exception.GetType().Name}: {exception.Message}");
}

// SafeMem.Extensions.Hybrid: HybridCache with SafeMem's bounded IMemoryCache as its local cache.
var hybridServices = new ServiceCollection();
hybridServices.AddSafeMemHybridCache(options =>
{
    options.Name = "consumer-hybrid";
    options.MaximumCount = 16;
});
using (ServiceProvider provider = hybridServices.BuildServiceProvider())
{
    var hybrid = provider.GetRequiredService<Microsoft.Extensions.Caching.Hybrid.HybridCache>();
    int calls = 0;
    for (int i = 0; i < 2; i++)
    {
        _ = hybrid.GetOrCreateAsync("answer", _ => new ValueTask<int>(++calls)).AsTask().GetAwaiter().GetResult();
    }

    Check(calls == 1, "SafeMem.Extensions.Hybrid: AddSafeMemHybridCache serves the second read from the cache");
}

// SafeMem.Extensions.Hybrid: the Redis backplane (StackExchange.Redis at the lowest version the package allows) with
// Redis unreachable: the application starts and serves at once, and the backplane knows it hears nobody.
var backplaneServices = new ServiceCollection();
backplaneServices.AddDistributedMemoryCache();
backplaneServices.AddSafeMemHybridCache(options =>
{
    options.Name = "consumer-backplane-l1";
    options.MaximumCount = 16;
})
.AddSafeMemRedisBackplane(options =>
{
    options.Configuration = "127.0.0.1:1,connectTimeout=500"; // nothing listens there
    options.ChannelPrefix = "consumer:";
});
await using (ServiceProvider provider = backplaneServices.BuildServiceProvider())
{
    var clock = System.Diagnostics.Stopwatch.StartNew();
    var hybrid = provider.GetRequiredService<Microsoft.Extensions.Caching.Hybrid.HybridCache>();
    int calls = 0;
    for (int i = 0; i < 2; i++)
    {
        _ = await hybrid.GetOrCreateAsync("answer", _ => new ValueTask<int>(++calls));
    }

    var backplane = provider.GetRequiredService<SafeMem.Extensions.Backplane.RedisBackplane>();
    Check(calls == 1 && clock.Elapsed < TimeSpan.FromSeconds(5) && !backplane.IsConnected && backplane.Channel == "consumer:safemem-backplane",
        $"SafeMem.Extensions.Hybrid: with the Redis backplane and no Redis, HybridCache served in {clock.Elapsed.TotalMilliseconds:F0} ms");
    Assembly redis = typeof(StackExchange.Redis.IConnectionMultiplexer).Assembly;
    Console.WriteLine($"loaded {redis.GetName().Name} {redis.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[0]}");
}
#endif

lock (instruments)
{
    Check(instruments.Any(name => name.StartsWith("safemem.cache.", StringComparison.Ordinal)),
        $"telemetry: meter SafeMem published {instruments.Count} instruments");
}

// SafeMem.Analyzers, which the SafeMem package brings along: Rent below does not return its rental on every path, which
// SM1007 reports (as information, so the build stays clean); .ci/consumer.sh finds that report in the build's error log.
var pool = new Microsoft.Extensions.ObjectPool.DefaultObjectPool<List<int>>(new Microsoft.Extensions.ObjectPool.DefaultPooledObjectPolicy<List<int>>());
Check(Rent(pool, early: false) == 1, "SafeMem.Analyzers: the sample the analyzers report on runs");

Console.WriteLine($"runtime {RuntimeInformation.FrameworkDescription}");
foreach (Assembly assembly in AppDomain.CurrentDomain.GetAssemblies()
    .Where(a => a.GetName().Name!.StartsWith("Microsoft.Extensions.", StringComparison.Ordinal))
    .OrderBy(a => a.GetName().Name, StringComparer.Ordinal))
{
    string version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
    Console.WriteLine($"loaded {assembly.GetName().Name} {version.Split('+')[0]}");
}

if (args.Contains("--wait"))
{
    // .ci/consumer.sh points the safemem tool, installed from the packed feed, at this process: it waits here, with its
    // heap as the checks left it, until its standard input closes.
    Console.WriteLine("waiting");
    Console.Out.Flush();
    Console.In.ReadToEnd();
}

return failures == 0 ? 0 : 1;

// Two requests, each in a scope of its own; the singleton keeps the last one's Request (the captive dependency).
[MethodImpl(MethodImplOptions.NoInlining)]
static void ServeTwoRequests(IServiceProvider container)
{
    for (int i = 0; i < 2; i++)
    {
        using IServiceScope scope = container.CreateScope();
        container.GetRequiredService<Keeper>().Last = scope.ServiceProvider.GetRequiredService<Request>();
    }
}

// Subscribes from a frame of its own, so that nothing on the caller's stack keeps the subscriber alive.
[MethodImpl(MethodImplOptions.NoInlining)]
static WeakReference Subscribe(WeakEventSource<EventArgs> source)
{
    var subscriber = new Subscriber();
    source.Add(subscriber.OnPriceChanged);
    return new WeakReference(subscriber);
}

static int Rent(Microsoft.Extensions.ObjectPool.ObjectPool<List<int>> pool, bool early)
{
    var list = pool.Get();
    if (early)
    {
        return 0;
    }

    list.Add(1);
    pool.Return(list);
    return 1;
}

internal sealed class Keeper
{
    public Request? Last { get; set; }
}

internal sealed class Request;

internal partial class Program
{
    // The container, held as a host holds it (a static root the explainer can name).
    private static ServiceProvider? s_container;
}

internal sealed class Subscriber
{
    public static int Calls;

    public void OnPriceChanged(object? sender, EventArgs e) => Calls++;
}
