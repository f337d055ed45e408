using SafeMem.Diagnostics;

namespace SafeMem.Extensions.Diagnostics;

/// <summary>
/// The scoped service instances one scope created, handed to the <see cref="LeakWatcher"/> when the scope is disposed.
/// </summary>
/// <remarks>
/// A scoped service itself, resolved by the first watched instance a scope creates, so the container captures it for
/// disposal before that instance and disposes it after every instance of the scope: the watcher sees them disposed.
/// It holds the instances strongly only while the scope does (the scope's own cache holds them anyway). Thread-safe: a
/// scope may resolve from several threads.
/// </remarks>
internal sealed class ScopeResolutions(LeakWatcher watcher) : IDisposable
{
    private readonly List<(object Instance, string Description)> _resolved = [];
    private bool _disposed;

    public void Add(object instance, string description)
    {
        lock (_resolved)
        {
            if (!_disposed)
            {
                _resolved.Add((instance, description));
                return;
            }
        }

        // Resolved while the scope was being disposed: it ends with the scope.
        Watch(instance, description);
    }

    public void Dispose()
    {
        (object Instance, string Description)[] resolved;
        lock (_resolved)
        {
            _disposed = true;
            resolved = [.. _resolved];
            _resolved.Clear();
        }

        foreach ((object instance, string description) in resolved)
        {
            Watch(instance, description);
        }
    }

    private void Watch(object instance, string description)
    {
        try
        {
            watcher.Watch(instance, description);
        }
        catch (ObjectDisposedException)
        {
            // The container disposed the watcher (a singleton) first: the application is shutting down.
        }
    }
}
