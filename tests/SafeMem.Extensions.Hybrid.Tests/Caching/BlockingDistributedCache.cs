using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.Extensions.Caching.Distributed;

namespace SafeMem.Extensions.Hybrid.Tests.Caching;

/// <summary>
/// A distributed cache whose asynchronous members block the calling thread for <see cref="BlockFor"/> before they return
/// their task, as a client does that connects, resolves a name or takes a lock synchronously: the kind of client that
/// starves the thread pool when its calls are started there.
/// </summary>
public sealed class BlockingDistributedCache : IBufferDistributedCache
{
    private readonly ConcurrentDictionary<string, byte[]> _store = new();
    private int _calls;
    private int _blocked;
    private int _mostBlockedAtOnce;

    public TimeSpan BlockFor { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>When set, calls block until it is set instead of for <see cref="BlockFor"/>.</summary>
    public ManualResetEventSlim? Gate { get; init; }

    /// <summary>Asynchronous calls that reached this cache.</summary>
    public int Calls => Volatile.Read(ref _calls);

    /// <summary>Threads this cache holds blocked now.</summary>
    public int Blocked => Volatile.Read(ref _blocked);

    /// <summary>The most threads this cache held blocked at one time.</summary>
    public int MostBlockedAtOnce => Volatile.Read(ref _mostBlockedAtOnce);

    public byte[]? Get(string key) => _store.TryGetValue(key, out byte[]? value) ? value : null;

    public Task<byte[]?> GetAsync(string key, CancellationToken token = default)
    {
        Block();
        return Task.FromResult(Get(key));
    }

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
        Block();
        return ValueTask.FromResult(TryGet(key, destination));
    }

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => _store[key] = value.ToArray();

    public void Set(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options) => _store[key] = value.ToArray();

    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        Block();
        Set(key, value, options);
        return Task.CompletedTask;
    }

    public ValueTask SetAsync(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        Block();
        Set(key, value, options);
        return default;
    }

    public void Refresh(string key)
    {
    }

    public Task RefreshAsync(string key, CancellationToken token = default)
    {
        Block();
        return Task.CompletedTask;
    }

    public void Remove(string key) => _store.TryRemove(key, out _);

    public Task RemoveAsync(string key, CancellationToken token = default)
    {
        Block();
        Remove(key);
        return Task.CompletedTask;
    }

    /// <summary>Waits until <paramref name="count"/> threads are blocked here.</summary>
    public async Task WaitUntilBlockedAsync(int count)
    {
        for (int i = 0; Blocked < count; i++)
        {
            Assert.True(i < 3_000, $"Only {Blocked} of {count} threads were blocked in the client after 30 s.");
            await Task.Delay(10);
        }
    }

    /// <summary>Waits until no thread is blocked here any more, so that a test leaves no blocked thread behind.</summary>
    public async Task WaitUntilIdleAsync()
    {
        for (int i = 0; Blocked > 0; i++)
        {
            Assert.True(i < 6_000, $"{Blocked} threads are still blocked in the client after 60 s.");
            await Task.Delay(10);
        }
    }

    private void Block()
    {
        Interlocked.Increment(ref _calls);
        int blocked = Interlocked.Increment(ref _blocked);
        for (int most = Volatile.Read(ref _mostBlockedAtOnce); blocked > most; most = Volatile.Read(ref _mostBlockedAtOnce))
        {
            if (Interlocked.CompareExchange(ref _mostBlockedAtOnce, blocked, most) == most)
            {
                break;
            }
        }

        if (Gate is { } gate)
        {
            gate.Wait();
        }
        else
        {
            Thread.Sleep(BlockFor);
        }

        Interlocked.Decrement(ref _blocked);
    }
}
