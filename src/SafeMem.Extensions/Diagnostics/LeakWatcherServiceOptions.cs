using SafeMem.Diagnostics;

namespace SafeMem.Extensions.Diagnostics;

/// <summary>
/// Settings for the <see cref="LeakWatcher"/> that <c>AddSafeMemLeakWatcher</c> registers: the watcher's own
/// (<see cref="LeakWatcherOptions"/>) and what the container does with it.
/// </summary>
/// <remarks>
/// <para>
/// The watcher copies its settings when the container builds it (once, as a singleton). <see cref="WatchScopedServices"/>
/// is different: it decides how the scoped registrations are registered, so it is read when
/// <c>AddSafeMemLeakWatcher</c> runs (its configure delegate is run once then, and again when the options are built);
/// setting it differently afterwards, through <c>services.Configure</c>, fails startup validation rather than being
/// silently ignored. Not thread-safe: configure on one thread, then build.
/// </para>
/// </remarks>
public sealed class LeakWatcherServiceOptions : LeakWatcherOptions
{
    /// <summary>
    /// Gets or sets a value indicating whether the watcher watches the scoped services each scope resolved, once that
    /// scope is disposed (the end of an ASP.NET Core request, of a hosted job's scope).
    /// </summary>
    /// <value>
    /// <see langword="false"/> by default. When <see langword="true"/>, every instance of a scoped service that a scope
    /// creates is watched when the scope is disposed, described as the scoped service it was resolved as: those
    /// resolved through <c>IServiceScope.ServiceProvider</c> and those created as dependencies of other services in the
    /// scope alike. Covered are the scoped registrations present when <c>AddSafeMemLeakWatcher</c> is called (call it
    /// after your own), unkeyed, of a closed type; not covered: open generic registrations (<c>IOptionsSnapshot&lt;T&gt;</c>),
    /// keyed services, transient and singleton services, and scoped services resolved from the root provider (they live
    /// as long as it). A covered registration is re-registered as a factory that creates the instance the way
    /// <c>ActivatorUtilities</c> does (the longest constructor the container can satisfy, as the container itself does);
    /// the instance and its disposal are otherwise unchanged.
    /// </value>
    public bool WatchScopedServices { get; set; }
}
