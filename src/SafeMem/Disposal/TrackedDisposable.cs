namespace SafeMem.Disposal;

/// <summary>
/// A base class that gives a type of your own leak tracking in two lines: derive from it and pass a
/// <see cref="LeakTracker"/> to its constructor; put your cleanup in <see cref="Dispose(bool)"/>.
/// </summary>
/// <remarks>
/// <para>
/// The constructor calls <see cref="LeakTracker.Track"/> for the new object, and <see cref="Dispose()"/> closes the
/// handle after your <see cref="Dispose(bool)"/> ran (even if it threw: disposal was attempted, so the object is not a
/// leak). An instance the program drops without disposing is reported by the tracker after a garbage collection.
/// This class has no finalizer; a derived type that adds one and calls <c>Dispose(false)</c> from it is still reported,
/// since nobody disposed it.
/// </para>
/// <para>
/// For a type that already has a base class, do the same by hand: keep <c>_leak = tracker.Track(this);</c> from the
/// constructor in a <see cref="LeakHandle"/> field and call <c>_leak.Dispose();</c> from <c>Dispose</c>.
/// </para>
/// <para>
/// A tracker with a <see cref="LeakTrackerOptions.LeakWatcher"/> hands the object to that watcher when it is disposed, so
/// an instance disposed but still reachable (kept in a list, held by an event) is reported retained as well.
/// </para>
/// <para>
/// <b>Thread-safety:</b> <see cref="Dispose()"/> may be called concurrently and repeatedly; <see cref="Dispose(bool)"/>
/// runs once.
/// </para>
/// </remarks>
public abstract class TrackedDisposable : IDisposable
{
    private readonly LeakHandle _leak;
    private int _disposed;

    /// <summary>Starts tracking this object with <paramref name="tracker"/> (subject to its sampling).</summary>
    /// <param name="tracker">The tracker that reports this object if it is never disposed.</param>
    /// <exception cref="ArgumentNullException"><paramref name="tracker"/> is null.</exception>
    protected TrackedDisposable(LeakTracker tracker)
    {
        ArgumentNullException.ThrowIfNull(tracker);
        _leak = tracker.Track(this);
    }

    /// <summary>Gets a value indicating whether <see cref="Dispose()"/> has been called.</summary>
    protected bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Disposes the object once and tells the tracker it was disposed.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            Dispose(disposing: true);
        }
        finally
        {
            _leak.Dispose();
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the object's resources. Called once, by <see cref="Dispose()"/> with <see langword="true"/>.</summary>
    /// <param name="disposing"><see langword="true"/> when called from <see cref="Dispose()"/>; <see langword="false"/> from a derived type's finalizer.</param>
    protected virtual void Dispose(bool disposing)
    {
    }
}
