using System.Collections.Concurrent;
using System.Globalization;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.ObjectPool;
using SafeMem.Disposal;
using SafeMem.Telemetry;

namespace SafeMem.Pooling;

/// <summary>
/// An <see cref="ObjectPoolProvider"/> that creates <see cref="TrackedObjectPool{T}"/>s: register it in place of
/// <c>DefaultObjectPoolProvider</c> (e.g. with <c>services.AddSafeMemObjectPools()</c>) and every pool the application
/// and its frameworks create through it is counted, and leak-tracked when sampling is on.
/// </summary>
/// <remarks>
/// <para>
/// Each pool gets the provider's options, a name of its own, and the provider's one <see cref="LeakTracker"/>, so a
/// single <see cref="LeakTracker.LeakDetected"/> subscription hears of every pool's leaks.
/// </para>
/// <para>
/// <b>Names</b> are what a dashboard and a leak report show, so they say what they belong to and never repeat in a
/// process: the provider is named by <see cref="TrackedObjectPoolOptions.Name"/>, or, left unnamed,
/// <c>object-pools-1</c>, <c>object-pools-2</c>... in creation order (one unnamed provider per process, the usual
/// <c>AddSafeMemObjectPools</c> case, is always <c>object-pools-1</c>); its tracker carries the same name; each pool is
/// named <c>&lt;provider&gt;/&lt;object type&gt;</c> (<c>object-pools-1/System.Text.StringBuilder</c>), and a second
/// and third pool of one type get <c>-2</c>, <c>-3</c> in creation order. Two providers (two hosts in one process)
/// therefore never name two pools alike, unless they were given one name.
/// </para>
/// <para>
/// <b>Held strongly:</b> the options (copied at construction), the shared tracker, and one counter per pooled type name
/// (bounded by the types pooled). <b>Not held:</b> the pools it creates; whoever asked for a pool owns it and disposes it
/// (a DI container disposes the pools it registered as singletons).
/// </para>
/// <para><b>Thread-safety:</b> <see cref="Create{T}(IPooledObjectPolicy{T})"/> is safe for concurrent use.</para>
/// </remarks>
public sealed class TrackedObjectPoolProvider : ObjectPoolProvider
{
    // The block kind in a generated provider name: the pools of AddSafeMemObjectPools, whose tracker would otherwise be
    // a "tracker-N" nobody could connect to the pools it watches.
    private const string UnnamedBlock = "object-pools";

    private readonly TrackedObjectPoolOptions _options;
    private readonly ConcurrentDictionary<string, int> _namesInUse = new(StringComparer.Ordinal);

    /// <summary>Creates a provider of untracked pools with default options.</summary>
    public TrackedObjectPoolProvider()
        : this(new TrackedObjectPoolOptions())
    {
    }

    /// <summary>Creates a provider whose pools use the given options.</summary>
    /// <param name="options">The settings for every pool; read once, at construction.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    public TrackedObjectPoolProvider(TrackedObjectPoolOptions options)
        : this(options, null)
    {
    }

    internal TrackedObjectPoolProvider(TrackedObjectPoolOptions options, IMeterFactory? fallbackMeterFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Clone();
        _options.MeterFactory ??= fallbackMeterFactory;
        Name = InstanceNames.Resolve(_options.Name, UnnamedBlock);
        if (_options.LeakTracker is null && _options.SamplingRate > 0)
        {
            _options.LeakTracker = new LeakTracker(Name, new LeakTrackerOptions
            {
                SamplingRate = _options.SamplingRate,
                CaptureStackTrace = _options.CaptureStackTrace,
                MeterFactory = _options.MeterFactory,
            });
        }

        LeakTracker = _options.LeakTracker;
    }

    /// <summary>
    /// Gets the provider's name: <see cref="TrackedObjectPoolOptions.Name"/>, or a generated <c>object-pools-N</c> when it
    /// was left unset. It prefixes every pool's name and names the provider's tracker.
    /// </summary>
    public string Name { get; }

    /// <summary>Gets the tracker every pool of this provider tracks its rentals with, or <see langword="null"/> when tracking is off.</summary>
    public LeakTracker? LeakTracker { get; }

    /// <summary>Creates a <see cref="TrackedObjectPool{T}"/> with the provider's options and a name of its own.</summary>
    /// <typeparam name="T">The pooled objects' type.</typeparam>
    /// <param name="policy">Creates and resets the pooled objects.</param>
    /// <returns>The new pool.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="policy"/> is null.</exception>
    public override ObjectPool<T> Create<T>(IPooledObjectPolicy<T> policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        string baseName = Name + "/" + TypeNames.Of(typeof(T));
        int ordinal = _namesInUse.AddOrUpdate(baseName, 1, static (_, n) => n + 1);
        TrackedObjectPoolOptions options = _options.Clone();
        options.Name = ordinal == 1 ? baseName : baseName + "-" + ordinal.ToString(CultureInfo.InvariantCulture);
        return new TrackedObjectPool<T>(policy, options);
    }
}
