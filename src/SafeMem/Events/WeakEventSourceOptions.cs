using System.Diagnostics.Metrics;

namespace SafeMem.Events;

/// <summary>Configures a <see cref="WeakEventSource{TEventArgs}"/> or an <see cref="AsyncWeakEventSource{TEventArgs}"/>.</summary>
/// <remarks>
/// Setters validate what they can; the source copies the options when it is built, so changing them afterwards does
/// not affect a source already built. Not thread-safe: configure on one thread, then build.
/// </remarks>
public sealed class WeakEventSourceOptions
{
    private string? _name;

    /// <summary>Gets or sets the instance name, reported as the <c>safemem.name</c> tag on every measurement and in statistics.</summary>
    /// <value>
    /// Not empty or white space, or <see langword="null"/> for a generated unique name (<c>event-1</c>,
    /// <c>event-2</c>, ...), so two unnamed instances never report as one series. Defaults to <see langword="null"/>.
    /// </value>
    /// <exception cref="ArgumentException">The value is empty or white space.</exception>
    public string? Name
    {
        get => _name;
        set
        {
            if (value is not null)
            {
                ArgumentException.ThrowIfNullOrWhiteSpace(value, nameof(Name));
            }

            _name = value;
        }
    }

    /// <summary>
    /// Gets or sets a value indicating whether each subscription captures the <see cref="SynchronizationContext"/>
    /// current when it is added, and has its handler delivered on that context.
    /// </summary>
    /// <value>
    /// <see langword="true"/> for UI code subscribed on a UI thread to a source raised from background threads: a
    /// handler whose captured context is not the raising thread's current context is queued with
    /// <see cref="SynchronizationContext.Post"/>, so <c>Raise</c> returns before it runs, and an exception it throws is
    /// counted as a handler failure and rethrown on that context (where the UI framework's unhandled-exception event
    /// sees it, as for an <c>async void</c> method). On the captured context itself the handler runs inline. Handlers
    /// added where no context is current run inline on the raising thread. Defaults to <see langword="false"/>.
    /// </value>
    public bool CaptureSynchronizationContext { get; set; }

    /// <summary>Gets or sets the factory of the meter the source publishes its instruments through.</summary>
    /// <value><see langword="null"/> for the shared SafeMem meter. Defaults to <see langword="null"/>.</value>
    public IMeterFactory? MeterFactory { get; set; }
}
