using System.Collections.Concurrent;
using Microsoft.Extensions.Caching.Memory;

namespace SafeMem.Extensions.Tests.Caching;

/// <summary>
/// Records post-eviction callbacks. <see cref="MemoryCache"/> runs them later on the thread pool and
/// <c>BoundedMemoryCache</c> runs them synchronously, so shared tests wait (bounded) for the one they expect.
/// </summary>
public sealed class EvictionRecorder
{
    private readonly BlockingCollection<Eviction> _evictions = [];

    public IReadOnlyList<Eviction> Seen => [.. _evictions];

    /// <summary>Adds this recorder's callback (with <paramref name="state"/>) to <paramref name="entry"/>.</summary>
    public ICacheEntry Attach(ICacheEntry entry, object? state = null)
    {
        entry.RegisterPostEvictionCallback((key, value, reason, s) => _evictions.Add(new Eviction(key, value, reason, s)), state);
        return entry;
    }

    /// <summary>Adds this recorder's callback to <paramref name="options"/>.</summary>
    public MemoryCacheEntryOptions Attach(MemoryCacheEntryOptions options)
        => options.RegisterPostEvictionCallback((key, value, reason, s) => _evictions.Add(new Eviction(key, value, reason, s)));

    /// <summary>Waits up to 10 s (a deadlock net, not a timing assertion) for the next eviction.</summary>
    public Eviction Next()
    {
        Assert.True(_evictions.TryTake(out Eviction? eviction, TimeSpan.FromSeconds(10)), "No post-eviction callback ran within 10 s.");
        return eviction;
    }

    public sealed record Eviction(object Key, object? Value, EvictionReason Reason, object? State);
}
