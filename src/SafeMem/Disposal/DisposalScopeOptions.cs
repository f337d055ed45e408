using System.Diagnostics.Metrics;
using SafeMem.Telemetry;

namespace SafeMem.Disposal;

/// <summary>Settings for a <see cref="DisposalScope"/>.</summary>
/// <remarks>
/// Setters validate their own value; the scope copies what it needs at construction, so changing the options afterwards
/// does not affect a scope already built, and the scope does not keep the options object. Child scopes
/// (<see cref="DisposalScope.CreateChild"/>) take their parent's meter factory and leak tracker. Not thread-safe:
/// configure on one thread, then build.
/// </remarks>
public sealed class DisposalScopeOptions
{
    private string? _name;

    /// <summary>Gets or sets the scope's name: the <c>safemem.name</c> tag its figures are counted under.</summary>
    /// <value>
    /// <see langword="null"/> (the default) for <c>scope</c>; otherwise not empty or white space. Scopes are counted per
    /// name, not per instance (see <see cref="DisposalScope"/>): give each kind of scope a fixed name (<c>request</c>,
    /// <c>connection</c>), never a per-instance one such as a request id.
    /// </value>
    /// <exception cref="ArgumentException">The value is empty or white space.</exception>
    public string? Name
    {
        get => _name;
        set => _name = InstanceNames.CheckOption(value);
    }

    /// <summary>Gets or sets the tracker that reports the scope if it is dropped without being disposed while it owns items.</summary>
    /// <value>
    /// <see langword="null"/> (the default) for no tracking. With a tracker, each scope (subject to the tracker's
    /// sampling) is tracked from its creation; one that the garbage collector finds unreachable, undisposed and still
    /// owning items is reported, with its name and its items' types in <see cref="LeakReport.Details"/>.
    /// </value>
    public LeakTracker? LeakTracker { get; set; }

    /// <summary>Gets or sets the factory of the meter the instruments are created on.</summary>
    /// <value>Defaults to <see langword="null"/>: the process-wide <c>SafeMem</c> meter.</value>
    public IMeterFactory? MeterFactory { get; set; }
}
