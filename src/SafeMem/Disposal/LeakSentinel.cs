using System.Diagnostics;
using System.Runtime.InteropServices;

namespace SafeMem.Disposal;

/// <summary>
/// The record of one tracked object: what it is, when and where it was created, and whether it was closed. It lives
/// exactly as long as the tracked object (attached to it by a <see cref="System.Runtime.CompilerServices.ConditionalWeakTable{TKey, TValue}"/>,
/// or held in a field of the object), so its finalizer runs once the object is unreachable: if it was not closed by
/// then, the object leaked.
/// </summary>
/// <remarks>
/// The finalizer belongs to this small object, never to the user's type: the user's type is not made finalizable, and
/// a closed sentinel suppresses its own finalization, so a disposed object costs the finalizer thread nothing. An open
/// sentinel holds the tracker strongly (the tracker must outlive its open records to report them) and the object not
/// at all, or, when the tracker hands disposed objects to a <see cref="Diagnostics.LeakWatcher"/>, through a weak GC
/// handle that the closing or the finalizer frees. Closing lets go of the tracker and of the creation stack, so a
/// disposed object that lives on (with its closed record attached, its handle in a field) keeps neither alive.
/// </remarks>
internal sealed class LeakSentinel
{
    private const int Open = 0;
    private const int Closed = 1;
    private const int Leaked = 2;

    // Cleared by Close: only an open record reports, so only an open record needs them.
    private LeakTracker? _tracker;
    private readonly long _createdAt;
    private StackTrace? _stack;
    private readonly ILeakDetail? _detail;
    private int _state;
    private nint _resource;

    public LeakSentinel(LeakTracker tracker, Type resourceType, StackTrace? stack, ILeakDetail? detail)
    {
        _tracker = tracker;
        ResourceType = resourceType;
        _stack = stack;
        _detail = detail;
        _createdAt = Stopwatch.GetTimestamp();
    }

    ~LeakSentinel()
    {
        // Runs once: a sentinel is never re-registered for finalization. The exchange settles a race with a Close that
        // runs while the object is being finalized (a finalizable user type closing its handle in its own finalizer).
        if (Interlocked.CompareExchange(ref _state, Leaked, Open) != Open)
        {
            return;
        }

        FreeResourceHandle();
        try
        {
            // Won the exchange from Open: Close never ran, so the tracker is still here.
            _tracker!.OnUnreachable(this);
        }
        catch (Exception)
        {
            // An exception escaping a finalizer ends the process; losing one report is the lesser harm.
        }
    }

    public Type ResourceType { get; }

    public bool IsOpen => Volatile.Read(ref _state) == Open;

    public ILeakDetail? Detail => _detail;

    public StackTrace? Stack => _stack;

    public TimeSpan Age => Stopwatch.GetElapsedTime(_createdAt);

    /// <summary>Remembers the object weakly, to hand it to the tracker's watcher when it is closed. Before the record is published.</summary>
    public void WatchOnClose(object resource) => _resource = GCHandle.ToIntPtr(GCHandle.Alloc(resource, GCHandleType.Weak));

    /// <summary>Marks the object closed (not leaked); true for the call that closed it, false if it was closed already.</summary>
    public bool Close()
    {
        if (Interlocked.CompareExchange(ref _state, Closed, Open) != Open)
        {
            return false;
        }

        GC.SuppressFinalize(this);

        // Only the caller that moved the state from Open gets here, and the finalizer reads the tracker only if it moved
        // it (to Leaked), so nothing reads these after they are cleared.
        LeakTracker tracker = _tracker!;
        _tracker = null;
        _stack = null;
        tracker.OnClosed();
        if (_resource != 0 && GCHandle.FromIntPtr(_resource).Target is { } resource)
        {
            // Disposed, so it should die soon: from here on it is the watcher's to judge.
            tracker.HandOff(resource);
        }

        FreeResourceHandle();
        return true;
    }

    // Called once: by the Close that won the exchange, or by the finalizer that won it.
    private void FreeResourceHandle()
    {
        if (_resource != 0)
        {
            GCHandle.FromIntPtr(_resource).Free();
            _resource = 0;
        }
    }
}
