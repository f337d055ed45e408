using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Primitives;

namespace SafeMem.Extensions.Caching;

/// <summary>
/// One entry of a <see cref="BoundedMemoryCache"/>: the <see cref="ICacheEntry"/> that <see cref="BoundedMemoryCache.CreateEntry"/>
/// hands out (committed to the cache when disposed with a value set) and, once committed, the engine's stored value.
/// </summary>
/// <remarks>
/// The engine compares stored values by reference, so this object is the identity of one write: a change token that
/// fires removes this entry only, never a newer one written under the same key since.
/// </remarks>
internal sealed class BoundedMemoryCacheEntry : ICacheEntry
{
    // A change token keeps its callbacks' state for as long as the token lives (often the whole process, e.g. a
    // configuration reload token). The state is a weak reference to the entry so that a token never roots an entry,
    // its value, or a cache dropped without Dispose.
    private static readonly Action<object?> s_onTokenChanged = static state =>
    {
        if (((WeakReference<BoundedMemoryCacheEntry>)state!).TryGetTarget(out BoundedMemoryCacheEntry? entry))
        {
            entry._cache.OnTokenChanged(entry);
        }
    };

    // Marks an entry that has left the cache, so token registrations made after that are disposed at once.
    private static readonly List<IDisposable> s_released = [];

    private readonly BoundedMemoryCache _cache;
    private object? _value;
    private bool _valueSet;
    private TimeSpan? _absoluteExpirationRelativeToNow;
    private TimeSpan? _slidingExpiration;
    private long? _size;
    private List<IChangeToken>? _expirationTokens;
    private List<PostEvictionCallbackRegistration>? _postEvictionCallbacks;
    private List<IDisposable>? _tokenRegistrations;
    private int _disposed;
    private volatile bool _tokenExpired;

    public BoundedMemoryCacheEntry(BoundedMemoryCache cache, object key)
    {
        _cache = cache;
        Key = key;
    }

    public object Key { get; }

    public object? Value
    {
        get => _value;
        set
        {
            _value = value;
            _valueSet = true;
        }
    }

    public DateTimeOffset? AbsoluteExpiration { get; set; }

    public TimeSpan? AbsoluteExpirationRelativeToNow
    {
        get => _absoluteExpirationRelativeToNow;
        set
        {
            if (value is { } relative)
            {
                ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(relative, TimeSpan.Zero, nameof(AbsoluteExpirationRelativeToNow));
            }

            _absoluteExpirationRelativeToNow = value;
        }
    }

    public TimeSpan? SlidingExpiration
    {
        get => _slidingExpiration;
        set
        {
            if (value is { } sliding)
            {
                ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(sliding, TimeSpan.Zero, nameof(SlidingExpiration));
            }

            _slidingExpiration = value;
        }
    }

    public IList<IChangeToken> ExpirationTokens => _expirationTokens ??= [];

    public IList<PostEvictionCallbackRegistration> PostEvictionCallbacks => _postEvictionCallbacks ??= [];

    /// <summary>Stored but not used for eviction: see <see cref="BoundedMemoryCache"/>'s remarks on priority.</summary>
    public CacheItemPriority Priority { get; set; } = CacheItemPriority.Normal;

    public long? Size
    {
        get => _size;
        set
        {
            if (value is { } size)
            {
                ArgumentOutOfRangeException.ThrowIfNegative(size, nameof(Size));
            }

            _size = value;
        }
    }

    /// <summary>True when a change token of this entry fired (the removal reason is then TokenExpired, not Expired).</summary>
    public bool TokenExpired => _tokenExpired;

    /// <summary>True when this entry has change tokens (the cost of checking them is paid only then).</summary>
    public bool HasExpirationTokens => _expirationTokens is { Count: > 0 };

    /// <summary>Commits the entry to the cache, once, if a value was set (as MemoryCache does: a factory that threw set none).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0 && _valueSet)
        {
            _cache.Commit(this);
        }
    }

    /// <summary>Checks the tokens that cannot call back (polling tokens); marks the entry when one has changed.</summary>
    public bool CheckTokensChanged()
    {
        if (_expirationTokens is { } tokens)
        {
            foreach (IChangeToken token in tokens)
            {
                if (token.HasChanged)
                {
                    MarkTokenExpired();
                    return true;
                }
            }
        }

        return false;
    }

    public void MarkTokenExpired() => _tokenExpired = true;

    /// <summary>Registers for the tokens that call back; called after the entry is stored.</summary>
    public void RegisterTokenCallbacks()
    {
        if (_expirationTokens is not { Count: > 0 } tokens)
        {
            return;
        }

        WeakReference<BoundedMemoryCacheEntry>? self = null;
        var registrations = new List<IDisposable>(tokens.Count);
        foreach (IChangeToken token in tokens)
        {
            if (token.ActiveChangeCallbacks)
            {
                // A token that has already fired invokes the callback right here, which removes this entry: that is
                // why registration happens after the entry is stored, never before.
                registrations.Add(token.RegisterChangeCallback(s_onTokenChanged, self ??= new WeakReference<BoundedMemoryCacheEntry>(this)));
            }
        }

        // Race: the entry may already have left (replaced, evicted, its token fired) before it got here. The
        // exchange orders this with ReleaseTokenCallbacks: whichever runs second disposes the registrations.
        if (Interlocked.CompareExchange(ref _tokenRegistrations, registrations, null) == s_released)
        {
            DisposeAll(registrations);
        }
    }

    /// <summary>The entry has left the cache: stop listening to its tokens so they do not keep it (or call it) later.</summary>
    public void ReleaseTokenCallbacks()
    {
        List<IDisposable>? registrations = Interlocked.Exchange(ref _tokenRegistrations, s_released);
        if (registrations is not null && registrations != s_released)
        {
            DisposeAll(registrations);
        }
    }

    /// <summary>
    /// Runs every post-eviction callback with <paramref name="reason"/>. All callbacks run even if one throws; the
    /// first exception is then rethrown (several are wrapped in an <see cref="AggregateException"/>).
    /// </summary>
    public void InvokePostEvictionCallbacks(EvictionReason reason)
    {
        if (_postEvictionCallbacks is not { Count: > 0 } callbacks)
        {
            return;
        }

        List<Exception>? failures = null;
        foreach (PostEvictionCallbackRegistration registration in callbacks.ToArray())
        {
            try
            {
                registration.EvictionCallback?.Invoke(Key, _value, reason, registration.State);
            }
            catch (Exception ex)
            {
                (failures ??= []).Add(ex);
            }
        }

        if (failures is { Count: 1 })
        {
            ExceptionDispatchInfo.Throw(failures[0]);
        }
        else if (failures is not null)
        {
            throw new AggregateException("Several post-eviction callbacks threw.", failures);
        }
    }

    private static void DisposeAll(List<IDisposable> registrations)
    {
        foreach (IDisposable registration in registrations)
        {
            registration.Dispose();
        }
    }
}
