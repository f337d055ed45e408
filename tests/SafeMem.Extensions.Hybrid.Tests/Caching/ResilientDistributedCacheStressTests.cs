using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.Extensions.Caching.Distributed;
using Polly.CircuitBreaker;
using SafeMem.Extensions.Caching;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Extensions.Hybrid.Tests.Caching;

[Collection(StressCollection.Name)]
public sealed class ResilientDistributedCacheStressTests
{
    [Fact]
    public void ManyThreads_InnerAnswersLateAsOftenAsInTime_EverySuccessfulReadIsIntact()
    {
        // Half the inner operations answer after the timeout, so reads and writes are abandoned all the time while
        // their pooled buffers are recycled and reused by other threads. A buffer released too early would show up as
        // another key's bytes in a read that succeeded.
        var inner = new SlowDistributedCache();
        var cache = new ResilientDistributedCache(inner, new ResilientDistributedCacheOptions
        {
            Timeout = TimeSpan.FromMilliseconds(2),
            FailureRatio = 1, // keep the circuit closed: every operation should reach the inner cache
            MinimumThroughput = 1_000_000,
        });
        long intact = 0, failed = 0;

        StressRunner.RunFor(4, TimeSpan.FromSeconds(1), (thread, random) =>
        {
            string key = Payloads.Key(random.Next(64));
            int length = 100 + (key.GetHashCode() & 0x3FF);
            try
            {
                if (random.Next(3) == 0)
                {
                    byte[] source = Payloads.For(key, length);
                    try
                    {
                        cache.SetAsync(key, new ReadOnlySequence<byte>(source), new DistributedCacheEntryOptions()).AsTask().GetAwaiter().GetResult();
                    }
                    finally
                    {
                        Array.Fill(source, (byte)0xEE); // the caller reuses its buffer as soon as the call has returned, timed out or not
                    }
                }
                else
                {
                    var destination = new ArrayBufferWriter<byte>();
                    if (cache.TryGetAsync(key, destination).AsTask().GetAwaiter().GetResult())
                    {
                        Payloads.Verify(key, destination.WrittenSpan.ToArray(), length);
                        Interlocked.Increment(ref intact);
                    }
                }
            }
            catch (TimeoutException)
            {
                Interlocked.Increment(ref failed);
            }
        });

        Assert.True(intact > 0, "No read succeeded in time.");
        Assert.True(failed > 0, "No operation timed out: the test did not exercise abandonment.");
        Assert.Equal(CircuitState.Closed, cache.CircuitState);
    }

    /// <summary>Answers every operation after 0 to 4 ms; copies what it is given at the moment it answers, as a client does when it sends.</summary>
    private sealed class SlowDistributedCache : IBufferDistributedCache
    {
        private readonly ConcurrentDictionary<string, byte[]> _store = new();

        public async ValueTask<bool> TryGetAsync(string key, IBufferWriter<byte> destination, CancellationToken token = default)
        {
            await Task.Delay(Random.Shared.Next(5), CancellationToken.None);
            if (!_store.TryGetValue(key, out byte[]? value))
            {
                return false;
            }

            // Written in pieces, so a writer recycled mid-way would show torn bytes.
            destination.Write(value.AsSpan(0, value.Length / 2));
            await Task.Yield();
            destination.Write(value.AsSpan(value.Length / 2));
            return true;
        }

        public async ValueTask SetAsync(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options, CancellationToken token = default)
        {
            await Task.Delay(Random.Shared.Next(5), CancellationToken.None);
            _store[key] = value.ToArray();
        }

        public bool TryGet(string key, IBufferWriter<byte> destination) => throw new NotSupportedException();

        public void Set(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options) => throw new NotSupportedException();

        public byte[]? Get(string key) => throw new NotSupportedException();

        public Task<byte[]?> GetAsync(string key, CancellationToken token = default) => throw new NotSupportedException();

        public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => throw new NotSupportedException();

        public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default) => throw new NotSupportedException();

        public void Refresh(string key) => throw new NotSupportedException();

        public Task RefreshAsync(string key, CancellationToken token = default) => throw new NotSupportedException();

        public void Remove(string key) => throw new NotSupportedException();

        public Task RemoveAsync(string key, CancellationToken token = default) => throw new NotSupportedException();
    }
}
