using System.Collections.Concurrent;
using System.Globalization;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.ObjectPool;
using SafeMem.Disposal;

namespace SafeMem.Pooling;

/// <summary>
/// An <see cref="ObjectPoolProvider"/> that creates <see cref="TrackedObjectPool{T}"/>s: register it in place of
/// <c>DefaultObjectPoolProvider</c> (e.g. with <c>services.AddSafeMemObjectPools()</c>) and every pool the application
/// and its frameworks create through it is counted, and leak-tracked when sampling is on.
/// </summary>
/// <remarks>
/// <para>
/// Each pool gets the provider's options, a name of its own (the object type's name, after the provider's
/// <see cref="TrackedObjectPoolOptions.Name"/> and a slash when one is set; <c>-2</c>, <c>-3</c>... for a second and
/// third pool of one type), and the provider's one <see cref="LeakTracker"/> (named like the provider, or
/// <c>tracker-N</c> when the provider is unnamed), so a single
/// <see cref="LeakTracker.LeakDetected"/> subscription hears of every pool's leaks.
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
        if (_options.LeakTracker is null && _options.SamplingRate > 0)
        {
            _options.LeakTracker = new LeakTracker(_options.Name, new LeakTrackerOptions
            {
                SamplingRate = _options.SamplingRate,
                CaptureStackTrace = _options.CaptureStackTrace,
                MeterFactory = _options.MeterFactory,
            });
        }

        LeakTracker = _options.LeakTracker;
    }

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
        string baseName = _options.Name is null ? TypeNames.Of(typeof(T)) : _options.Name + "/" + TypeNames.Of(typeof(T));
        int ordinal = _namesInUse.AddOrUpdate(baseName, 1, static (_, n) => n + 1);
        TrackedObjectPoolOptions options = _options.Clone();
        options.Name = ordinal == 1 ? baseName : baseName + "-" + ordinal.ToString(CultureInfo.InvariantCulture);
        return new TrackedObjectPool<T>(policy, options);
    }
}
