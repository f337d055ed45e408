using Microsoft.Extensions.DependencyInjection;
using SafeMem.Caching;

namespace SafeMem.Demo.DocSnippets;

// The code docs/caching.md shows, compiled. tests/SafeMem.Tests/DocsTests.cs checks that every line of the page's C#
// blocks appears here. Not run by the demo.
internal static class CachingSnippets
{
    public static void Singleton(IServiceCollection services)
    {
        // One cache for the application's lifetime: a DI singleton (or a static readonly field).
        services.AddSingleton(_ => new BoundedCache<int, Customer>(new BoundedCacheOptions<int, Customer>
        {
            Name = "customers",
            MaximumCount = 10_000,
        }));
    }

    public static BoundedCache<string, Report> Expiry(TimeProvider clock) =>
        new(new BoundedCacheOptions<string, Report>
        {
            Name = "reports",
            MaximumCount = 500,
            ExpireAfterWrite = TimeSpan.FromMinutes(10),   // stale after 10 minutes, however often it is read
            ExpireAfterAccess = TimeSpan.FromMinutes(2),   // dropped when nobody read it for 2 minutes
            TimeProvider = clock,                          // tests pass a fake clock
        });

    public static void Removals(BoundedCache<string, Report> cache, Action<string> log)
    {
        cache.EntryRemoved += (_, e) =>
        {
            if (e.Reason is RemovalReason.Evicted or RemovalReason.Expired)
            {
                log($"{e.Key} left the cache: {e.Reason}");
            }
        };
    }

    public static void Leases(string path)
    {
        using var images = new BoundedCache<string, Bitmap>(new BoundedCacheOptions<string, Bitmap>
        {
            Name = "bitmaps",
            MaximumWeight = 256 * 1024 * 1024,
            Weigher = static (_, bitmap) => bitmap.ByteCount,
            DisposeRemovedValues = true,   // the cache owns its bitmaps: each is disposed once, when it leaves
        });
        images.Set(path, Bitmap.Load(path));

        // Evicted while in use? The lease defers the disposal until it is disposed.
        if (images.TryLease(path, out CacheLease<Bitmap>? lease))
        {
            using (lease)
            {
                Draw(lease.Value);
            }
        }
    }

    public static void LeaseInOneStep(BoundedCache<string, Bitmap> images, string path)
    {
        // Found or loaded, and leased in the same step: no other thread's write can dispose it before Draw is done.
        using (CacheLease<Bitmap> leased = images.GetOrAddLease(path, static p => Bitmap.Load(p)))
        {
            Draw(leased.Value);
        }
    }

    public static void KeyedCaches(IServiceCollection services)
    {
        services.AddKeyedSafeMemCache("thumbnails", options => options.MaximumWeight = 64 * 1024 * 1024);
        // ... then: public ThumbnailService([FromKeyedServices("thumbnails")] IMemoryCache cache)
    }

    public static string Statistics(BoundedCache<int, Customer> cache)
    {
        CacheStatistics stats = cache.GetStatistics();
        return $"{stats.Name}: {stats.EntryCount} entries, hit ratio {stats.HitRatio:P1}, {stats.Evictions} evictions";
    }

    private static void Draw(Bitmap bitmap) => GC.KeepAlive(bitmap);

    internal sealed record Customer(int Id);

    internal sealed record Report(string Name);

    internal sealed class Bitmap : IDisposable
    {
        public int ByteCount { get; init; }

        public static Bitmap Load(string path) => new() { ByteCount = path.Length };

        public void Dispose()
        {
        }
    }
}
