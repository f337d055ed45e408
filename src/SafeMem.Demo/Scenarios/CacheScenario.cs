using SafeMem.Caching;

namespace SafeMem.Demo.Scenarios;

/// <summary>A static dictionary used as a cache grows with every distinct key; a bounded cache holds its budget.</summary>
internal sealed class CacheScenario : IScenario
{
    private const int Requests = 60_000;
    private const int DistinctPages = 20_000;
    private const int PageBytes = 2_048;
    private const long BudgetBytes = 4 * 1024 * 1024;

    private static readonly Dictionary<int, byte[]> s_naiveCache = [];

    private BoundedCache<int, byte[]>? _cache;

    public string Key => "cache";

    public string Title => "Caching: a static Dictionary cache that only grows vs BoundedCache (weight-bounded LRU)";

    public void Run(TextWriter output)
    {
        long baseline = Heap.LiveBytes();
        int naiveHits = 0;
        foreach (int page in Workload())
        {
            if (s_naiveCache.ContainsKey(page))
            {
                naiveHits++;
            }
            else
            {
                s_naiveCache[page] = Render(page);
            }
        }

        long naiveBytes = Heap.LiveBytes() - baseline;
        output.WriteLine($"  before: Dictionary<int, byte[]>    {s_naiveCache.Count,7:N0} pages held  {Heap.Megabytes(naiveBytes)} retained  hit ratio {naiveHits / (double)Requests:P1}  (grows with every new page)");
        s_naiveCache.Clear();
        s_naiveCache.TrimExcess();

        baseline = Heap.LiveBytes();
        BoundedCache<int, byte[]> cache = _cache = new BoundedCache<int, byte[]>(new BoundedCacheOptions<int, byte[]>
        {
            Name = "demo.pages",
            MaximumWeight = BudgetBytes,
            Weigher = static (_, page) => page.Length,
        });
        foreach (int page in Workload())
        {
            cache.GetOrAdd(page, static p => Render(p));
        }

        long boundedBytes = Heap.LiveBytes() - baseline;
        CacheStatistics stats = cache.GetStatistics();
        output.WriteLine($"  after:  BoundedCache (4 MB budget)  {cache.Count,7:N0} pages held  {Heap.Megabytes(boundedBytes)} retained  hit ratio {stats.HitRatio:P1}  evictions {stats.Evictions:N0}");
        output.WriteLine($"          weight {cache.Weight:N0} / {cache.MaximumWeight:N0} bytes: the bound held after every write");
    }

    public void Dispose() => _cache?.Dispose();

    // Skewed traffic: most requests go to a small set of popular pages, the rest are spread over many.
    private static IEnumerable<int> Workload()
    {
        var random = new Random(42);
        for (int i = 0; i < Requests; i++)
        {
            yield return random.NextDouble() < 0.8 ? random.Next(1_000) : random.Next(DistinctPages);
        }
    }

    private static byte[] Render(int page)
    {
        byte[] bytes = new byte[PageBytes];
        bytes[0] = (byte)page;
        return bytes;
    }
}
