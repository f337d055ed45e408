using SafeMem.Caching;

namespace SafeMem.Cli.TestTarget;

/// <summary>
/// A bounded cache that fills during the first second and then stays flat: every step adds 100 new pages (1,000 a
/// second) to a <see cref="BoundedCache{TKey, TValue}"/> of 1,000 entries, which evicts the oldest once full.
/// </summary>
internal static class PageCache
{
    private static readonly BoundedCache<int, Page> s_pages = new(new BoundedCacheOptions<int, Page> { Name = "target.pages", MaximumCount = 1000 });
    private static int s_next;

    public static void Step()
    {
        for (int i = 0; i < 100; i++)
        {
            int key = s_next++;
            s_pages.Set(key, new Page(key));
        }
    }
}

/// <summary>What the cache holds.</summary>
internal sealed record Page(int Number)
{
    public byte[] Content { get; } = new byte[128];
}
