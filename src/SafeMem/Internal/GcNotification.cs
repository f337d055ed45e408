using System.Runtime.InteropServices;

namespace SafeMem.Internal;

/// <summary>
/// Calls back after full (generation 2) garbage collections, for as long as a target object lives, without timers
/// and without keeping the target alive. Blocks use it to sweep entries whose referents the GC has collected even
/// when nobody calls them (a registry that is written once and never touched again still shrinks).
/// </summary>
/// <remarks>
/// A small finalizable sentinel is allocated and dropped; once promoted to generation 2 it is finalized only when a
/// full collection runs, and its finalizer calls back and re-registers itself. The sentinel refers to the target
/// through a weak reference, so the target is collected normally; the sentinel then stops re-registering and dies.
/// The callback runs on the finalizer thread: it must be short, must not block, and should hand real work to the
/// thread pool. An exception from it is swallowed (an unhandled exception on the finalizer thread would end the
/// process) and the registration continues.
/// </remarks>
internal static class GcNotification
{
    /// <summary>
    /// Calls <paramref name="callback"/>(<paramref name="target"/>) after each full collection while the target lives
    /// and the callback returns <see langword="true"/>.
    /// </summary>
    public static void Register<T>(T target, Func<T, bool> callback)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(callback);
        _ = new Sentinel<T>(target, callback);
    }

    private sealed class Sentinel<T>
        where T : class
    {
        // A raw weak GC handle, not a WeakReference: a WeakReference object dies with the sentinel and may be
        // finalized (freeing its handle) before the sentinel's finalizer reads it.
        private GCHandle _target;
        private readonly Func<T, bool> _callback;

        public Sentinel(T target, Func<T, bool> callback)
        {
            _target = GCHandle.Alloc(target, GCHandleType.Weak);
            _callback = callback;
        }

        ~Sentinel()
        {
            if (_target.Target is not T target)
            {
                _target.Free();
                return;
            }

            bool again = true;
            try
            {
                again = _callback(target);
            }
            catch (Exception)
            {
                // Swallowed on purpose: see the type's remarks.
            }

            if (again && !Environment.HasShutdownStarted)
            {
                GC.ReRegisterForFinalize(this);
            }
            else
            {
                _target.Free();
            }
        }
    }
}
