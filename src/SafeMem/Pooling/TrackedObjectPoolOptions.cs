using System.Diagnostics.Metrics;
using SafeMem.Disposal;
using SafeMem.Telemetry;

namespace SafeMem.Pooling;

/// <summary>Settings for a <see cref="TrackedObjectPool{T}"/>, or for every pool a <see cref="TrackedObjectPoolProvider"/> creates.</summary>
/// <remarks>
/// Setters validate their own value; a pool copies what it needs at construction, so changing the options afterwards
/// does not affect a pool already built, and the pool does not keep the options object. Not thread-safe: configure on
/// one thread, then build.
/// </remarks>
public sealed class TrackedObjectPoolOptions
{
    private string? _name;
    private int _maximumRetained = Environment.ProcessorCount * 2;
    private double _samplingRate;

    /// <summary>Gets or sets the pool's name: the <c>safemem.name</c> tag of its measurements.</summary>
    /// <value>
    /// <see langword="null"/> (the default) for a generated unique name (<c>pool-1</c>, <c>pool-2</c>, ...); otherwise
    /// not empty or white space. For a <see cref="TrackedObjectPoolProvider"/>, its own name: the prefix of its pools'
    /// names (<c>name/System.Text.StringBuilder</c>) and the name of its tracker; unset, a generated
    /// <c>object-pools-1</c>, <c>object-pools-2</c>, ... takes its place.
    /// </value>
    /// <exception cref="ArgumentException">The value is empty or white space.</exception>
    public string? Name
    {
        get => _name;
        set => _name = InstanceNames.CheckOption(value);
    }

    /// <summary>Gets or sets the largest number of idle objects the pool keeps; further returned objects are dropped (and disposed).</summary>
    /// <value>Greater than zero. Defaults to twice the processor count, as <c>DefaultObjectPoolProvider</c>.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public int MaximumRetained
    {
        get => _maximumRetained;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            _maximumRetained = value;
        }
    }

    /// <summary>Gets or sets the share of rentals tracked for leaks (objects rented and never returned).</summary>
    /// <value>
    /// From 0 (the default: no tracking; the pool's hot path allocates nothing and takes no lookup) to 1 (every rental
    /// tracked, which also makes every double return and every foreign object detectable). Ignored when
    /// <see cref="LeakTracker"/> is set: that tracker's own rate applies.
    /// </value>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 0, above 1, or not a number.</exception>
    public double SamplingRate
    {
        get => _samplingRate;
        set
        {
            if (double.IsNaN(value))
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "The sampling rate must be a number from 0 to 1.");
            }

            ArgumentOutOfRangeException.ThrowIfLessThan(value, 0d);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 1d);
            _samplingRate = value;
        }
    }

    /// <summary>Gets or sets a value indicating whether a tracked rental records the stack that rented the object.</summary>
    /// <value><see langword="false"/> by default. Ignored when <see cref="LeakTracker"/> is set: that tracker's own setting applies.</value>
    public bool CaptureStackTrace { get; set; }

    /// <summary>Gets or sets the tracker that tracks rentals and reports leaked ones, to share one tracker between pools.</summary>
    /// <value>
    /// <see langword="null"/> (the default): a pool with a <see cref="SamplingRate"/> above 0 creates its own tracker,
    /// named like the pool. When set, its <see cref="LeakTracker.SamplingRate"/> and
    /// <see cref="LeakTracker.CaptureStackTrace"/> apply.
    /// </value>
    public LeakTracker? LeakTracker { get; set; }

    /// <summary>Gets or sets the factory of the meter the instruments are created on.</summary>
    /// <value>Defaults to <see langword="null"/>: the process-wide <c>SafeMem</c> meter.</value>
    public IMeterFactory? MeterFactory { get; set; }

    internal TrackedObjectPoolOptions Clone() => (TrackedObjectPoolOptions)MemberwiseClone();
}
