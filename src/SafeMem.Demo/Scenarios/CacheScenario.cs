using System.Globalization;
using SafeMem.Caching;
using SafeMem.Demo.Lab;

namespace SafeMem.Demo.Scenarios;

/// <summary>
/// A page cache: a static Dictionary grows with every distinct page ever asked for; a weight-bounded
/// <see cref="BoundedCache{TKey, TValue}"/> holds its budget with the same hit ratio.
/// </summary>
internal sealed class CacheScenario : Scenario
{
    private const int RequestsPerStep = 400;
    private const double PopularShare = 0.75;
    private const int PopularPages = 400;
    private const int PageBytes = 2_048;
    private const long BudgetBytes = 2 * 1024 * 1024;

    public override string Key => "cache";

    public override string Title => "Caching";

    public override string NaiveLabel => "static Dictionary<int, byte[]>";

    public override string SafeMemLabel => "BoundedCache, 2 MB weight budget";

    public override string Story =>
        $"Each step serves {RequestsPerStep} page requests: {PopularShare:P0} go to {PopularPages} popular pages, the rest to pages never seen " +
        $"before ({PageBytes / 1024} KB each). The Dictionary keeps every page it ever rendered; the BoundedCache evicts the least recently used " +
        "pages to stay within its budget.";

    public override IReadOnlyList<CounterChart> Charts { get; } =
    [
        new("page bytes held (what the budget bounds)", "safemem.cache.weight", NaiveKey: "bytes", Bytes: true),
        new("entries held", "safemem.cache.entry.count", NaiveKey: "entries"),
        new("evictions", "safemem.cache.removals{safemem.cache.removal.reason=evicted}"),
        new("hits", "safemem.cache.requests{safemem.cache.result=hit}", NaiveKey: "hits"),
    ];

    public override Variant Create(VariantKind kind) => kind == VariantKind.Naive ? new DictionaryCache() : new SafeMemCache();

    // The same requests for both variants: page ids from a per-step seed, new pages numbered past every earlier one.
    private static void Requests(int step, Action<int> request)
    {
        var random = new Random(step);
        int fresh = step * RequestsPerStep;
        for (int i = 0; i < RequestsPerStep; i++)
        {
            request(random.NextDouble() < PopularShare ? random.Next(PopularPages) : PopularPages + fresh + i);
        }
    }

    private static byte[] Render(int page)
    {
        byte[] bytes = new byte[PageBytes];
        bytes[0] = (byte)page;
        return bytes;
    }

    private sealed class DictionaryCache : Variant
    {
        // The classic: a static Dictionary used as a cache. Lives as long as the application, never evicts.
        private readonly Dictionary<int, byte[]> _pages = [];
        private long _hits;
        private long _bytes;

        public override void Step(int step) => Requests(step, page =>
        {
            if (_pages.ContainsKey(page))
            {
                _hits++;
            }
            else
            {
                byte[] rendered = Render(page);
                _pages[page] = rendered;
                _bytes += rendered.Length;
            }
        });

        public override void Observe(IDictionary<string, double> figures)
        {
            figures["entries"] = _pages.Count;
            figures["bytes"] = _bytes;
            figures["hits"] = _hits;
        }

        public override IEnumerable<string> Conclude(Sample first, Sample last)
        {
            long requests = (long)last.Step * RequestsPerStep;
            yield return string.Create(CultureInfo.InvariantCulture,
                $"Dictionary: {_pages.Count:N0} pages held ({Format.Megabytes(_bytes)} of page bytes), hit ratio {_hits / (double)requests:P1}; it grows by every page ever requested.");
        }
    }

    private sealed class SafeMemCache : Variant
    {
        private readonly BoundedCache<int, byte[]> _cache = new(new BoundedCacheOptions<int, byte[]>
        {
            Name = LabNames.Prefix + "pages",
            MaximumWeight = BudgetBytes,
            Weigher = static (_, page) => page.Length,
            WeightUnit = "By",
        });

        public override void Step(int step) => Requests(step, page => _cache.GetOrAdd(page, static p => Render(p)));

        public override IEnumerable<string> Conclude(Sample first, Sample last)
        {
            // Figures from the telemetry the lab read, as a dashboard would show them.
            double weight = last.Value("safemem.cache.weight") ?? 0;
            double entries = last.Value("safemem.cache.entry.count") ?? 0;
            double hits = last.Value("safemem.cache.requests{safemem.cache.result=hit}") ?? 0;
            double lookups = last.Value("safemem.cache.requests") ?? 0;
            long growth = last.RetainedBytes - first.RetainedBytes;
            double overhead = entries == 0 ? 0 : (growth - weight) / entries;
            yield return string.Create(CultureInfo.InvariantCulture,
                $"BoundedCache: {entries:N0} pages held, weight {Format.Megabytes((long)weight)} of its {Format.Megabytes(BudgetBytes)} budget, hit ratio {hits / Math.Max(1, lookups):P1}.");
            yield return string.Create(CultureInfo.InvariantCulture,
                $"The budget bounds what the weigher counts (the page bytes). Retained memory grew {Format.Megabytes(growth)}: that weight plus about {overhead:N0} bytes per entry for its key, cache node and array header, and the cache's table. Leave room for that overhead when sizing a cache.");
        }

        protected override void Dispose(bool disposing) => _cache.Dispose();
    }
}
