using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.Extensions.Caching.Distributed;

namespace SafeMem.Extensions.Hybrid.Tests.Caching;

/// <summary>What the next asynchronous operations of a <see cref="ScriptedDistributedCache"/> do.</summary>
public enum ScriptedBehavior
{
    /// <summary>Answer at once from the in-memory store.</summary>
    Answer,

    /// <summary>Fail at once (as a refused connection does).</summary>
    Throw,

    /// <summary>Never answer until <see cref="ScriptedDistributedCache.ReleaseHung"/> (as a frozen server does).</summary>
    Hang,
}

/// <summary>
/// An in-memory <see cref="IBufferDistributedCache"/> (or, with <c>buffers: false</c>, a plain
/// <see cref="IDistributedCache"/> through <see cref="PlainDistributedCache"/>) whose asynchronous operations can be told
/// to fail or to hang, and that records the writers and sequences it was handed, so tests can play what a late answer
/// would do to them.
/// </summary>
public sealed class ScriptedDistributedCache : IBufferDistributedCache
{
    private readonly ConcurrentDictionary<string, byte[]> _store = new();
    private readonly ConcurrentQueue<Action> _hung = new();
    private int _calls;

    public ScriptedBehavior Behavior { get; set; } = ScriptedBehavior.Answer;

    /// <summary>Asynchronous operations that reached this cache.</summary>
    public int Calls => Volatile.Read(ref _calls);

    /// <summary>The writer the last hung read was given (its late answer writes there).</summary>
    public IBufferWriter<byte>? LastHungDestination { get; private set; }

    /// <summary>The value the last hung write was given (its late answer reads it).</summary>
    public ReadOnlySequence<byte> LastHungValue { get; private set; }

    public IReadOnlyDictionary<string, byte[]> Store => _store;

    /// <summary>Waits until <paramref name="count"/> asynchronous operations have reached this cache (they start on threads of the wrapper).</summary>
    public async Task WaitForCallsAsync(int count)
    {
        for (int i = 0; Calls < count; i++)
        {
            Assert.True(i < 10_000, $"Only {Calls} of {count} operations reached the inner cache.");
            await Task.Delay(1);
        }
    }

    /// <summary>
    /// Waits until <paramref name="key"/> is stored. HybridCache writes a value its factory produced to the distributed
    /// cache in the background, after it has handed the value to the caller: a test must wait for that write.
    /// </summary>
    public async Task WaitForKeyAsync(string key)
    {
        for (int i = 0; !_store.ContainsKey(key); i++)
        {
            Assert.True(i < 10_000, $"HybridCache did not write '{key}' to the distributed cache within 10 s.");
            await Task.Delay(1);
        }
    }

    /// <summary>Lets every hung operation answer now, as a thawed server would.</summary>
    public void ReleaseHung()
    {
        while (_hung.TryDequeue(out Action? answer))
        {
            answer();
        }
    }

    public byte[]? Get(string key) => _store.TryGetValue(key, out byte[]? value) ? value : null;

    public Task<byte[]?> GetAsync(string key, CancellationToken token = default)
        => Run(() => Get(key));

    public bool TryGet(string key, IBufferWriter<byte> destination)
    {
        if (_store.TryGetValue(key, out byte[]? value))
        {
            destination.Write(value);
            return true;
        }

        return false;
    }

    public ValueTask<bool> TryGetAsync(string key, IBufferWriter<byte> destination, CancellationToken token = default)
    {
        if (Behavior == ScriptedBehavior.Hang)
        {
            LastHungDestination = destination;
        }

        return new(Run(() => TryGet(key, destination)));
    }

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => _store[key] = value.ToArray();

    public void Set(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options) => _store[key] = value.ToArray();

    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
        => Run(() =>
        {
            Set(key, value, options);
            return true;
        });

    public ValueTask SetAsync(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        if (Behavior == ScriptedBehavior.Hang)
        {
            LastHungValue = value;
        }

        // Like a real client, the value is read only when the operation gets to run.
        return new(Run(() =>
        {
            Set(key, value, options);
            return true;
        }));
    }

    public void Refresh(string key)
    {
    }

    public Task RefreshAsync(string key, CancellationToken token = default) => Run(() => true);

    public void Remove(string key) => _store.TryRemove(key, out _);

    public Task RemoveAsync(string key, CancellationToken token = default)
        => Run(() =>
        {
            Remove(key);
            return true;
        });

    private Task<T> Run<T>(Func<T> answer)
    {
        // Counted once the operation has done what its behavior says (answered, failed, or been queued to hang): a test
        // that sees the count and then changes the behavior or releases the hung operations must find this one done.
        Task<T> result;
        switch (Behavior)
        {
            case ScriptedBehavior.Throw:
                result = Task.FromException<T>(new InvalidOperationException("scripted failure"));
                break;
            case ScriptedBehavior.Hang:
                var pending = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
                _hung.Enqueue(() => pending.TrySetResult(answer()));
                result = pending.Task;
                break;
            default:
                result = Task.FromResult(answer());
                break;
        }

        Interlocked.Increment(ref _calls);
        return result;
    }
}

/// <summary>The same store seen through <see cref="IDistributedCache"/> only (no buffer members).</summary>
public sealed class PlainDistributedCache(ScriptedDistributedCache inner) : IDistributedCache
{
    public byte[]? Get(string key) => inner.Get(key);

    public Task<byte[]?> GetAsync(string key, CancellationToken token = default) => inner.GetAsync(key, token);

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => inner.Set(key, value, options);

    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
        => inner.SetAsync(key, value, options, token);

    public void Refresh(string key) => inner.Refresh(key);

    public Task RefreshAsync(string key, CancellationToken token = default) => inner.RefreshAsync(key, token);

    public void Remove(string key) => inner.Remove(key);

    public Task RemoveAsync(string key, CancellationToken token = default) => inner.RemoveAsync(key, token);
}
