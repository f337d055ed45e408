using System.Diagnostics.Metrics;
using SafeMem.Diagnostics;
using SafeMem.Telemetry;

namespace SafeMem.Disposal;

/// <summary>Settings for a <see cref="LeakTracker"/>.</summary>
/// <remarks>
/// Setters validate their own value; the tracker copies what it needs at construction, so changing the options
/// afterwards does not affect a tracker already built, and the tracker does not keep the options object. Not
/// thread-safe: configure on one thread, then build.
/// </remarks>
public sealed class LeakTrackerOptions
{
    private string? _name;
    private double _samplingRate = 1;

    /// <summary>Gets or sets the tracker's name: the <c>safemem.name</c> tag of its measurements and the tracker named in its reports.</summary>
    /// <value>
    /// <see langword="null"/> (the default) for a generated unique name (<c>tracker-1</c>, <c>tracker-2</c>, ...);
    /// otherwise not empty or white space.
    /// </value>
    /// <exception cref="ArgumentException">The value is empty or white space.</exception>
    public string? Name
    {
        get => _name;
        set => _name = InstanceNames.CheckOption(value);
    }

    /// <summary>Gets or sets the share of <see cref="LeakTracker.Track"/> calls that really track their object.</summary>
    /// <value>
    /// From 0 (track nothing: <c>Track</c> costs a field read) to 1 (track everything, the default). Each call is
    /// sampled independently with this probability, so a leak that happens repeatedly is found in production at a
    /// fraction of the cost, as Netty's sampled leak levels do. A tracked object costs one small finalizable object (a
    /// few hundred nanoseconds) plus the stack capture when <see cref="CaptureStackTrace"/> is on.
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

    /// <summary>Gets or sets a value indicating whether each tracked object records the stack that created it (its "created at" record).</summary>
    /// <value>
    /// <see langword="false"/> by default: capturing a stack costs microseconds per tracked object. Turn it on while
    /// hunting a leak, or combine it with a low <see cref="SamplingRate"/> in production.
    /// </value>
    public bool CaptureStackTrace { get; set; }

    /// <summary>
    /// Gets or sets the watcher that tracked objects are handed to when they are disposed, so that an object disposed but
    /// still reachable is found as well as one unreachable but never disposed.
    /// </summary>
    /// <value>
    /// <see langword="null"/> (the default) for no hand-off. With a watcher, each object tracked through
    /// <see cref="LeakTracker.Track"/> (and so each <see cref="TrackedDisposable"/>) that the sampler picked is watched
    /// (<see cref="LeakWatcher.Watch"/>) when its handle is disposed, described as disposed and tracked by this tracker;
    /// if it is still alive several full collections later, the watcher reports it retained. The tracker then keeps a
    /// weak GC handle to each tracked object until it is disposed or found leaked. Scopes and pool rentals are not
    /// handed off: a returned rental lives on in its pool by design. Do not combine a watcher with objects that are
    /// tracked again after disposal (reused): the watcher would report the reused object.
    /// </value>
    public LeakWatcher? LeakWatcher { get; set; }

    /// <summary>Gets or sets the factory of the meter the instruments are created on.</summary>
    /// <value>Defaults to <see langword="null"/>: the process-wide <c>SafeMem</c> meter.</value>
    public IMeterFactory? MeterFactory { get; set; }
}
