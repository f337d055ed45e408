using System.Buffers.Binary;
using System.Collections.Concurrent;
using Microsoft.Extensions.Caching.Distributed;
using SafeMem.Extensions.Caching;

namespace SafeMem.Extensions.Backplane;

// This node's changes on their way out (the outbox and its sender), those kept for recovery, the tags the node knows,
// the recent changes overlapping reads are checked against, and what the wrapper tells the backplane:
//
//  wrapper: write reached Redis ──OnChanged──> outbox (bounded) ──sender (thread pool, batches)──> PUBLISH
//           write failed ────OnChangeFailed──> pending (bounded, one per key/tag) <──── publish failed ──┘
//  heard again ──> recovery: pending key: DEL through the wrapper (which announces it); tag: rewrite its record;
//                            publish-only: to the outbox; anything dropped: one "clear" message to every node
//  another node's key ──> mark it changed (overlapping reads repeat) ──> remove it from the local cache
//  another node's tag ──> HybridCache.RemoveByTagAsync, with the wrapper skipping the tag record's write
public sealed partial class RedisBackplane
{
    /// <summary>As HybridCache writes its tag records: they must outlive any entry they invalidate.</summary>
    private static readonly DistributedCacheEntryOptions s_tagRecordOptions = new() { AbsoluteExpirationRelativeToNow = TimeSpan.FromDays(1000) };

    /// <summary>What the backplane is doing on the current asynchronous flow, for the wrapper's hooks.</summary>
    private static readonly AsyncLocal<Scope> s_scope = new();

    private readonly ConcurrentQueue<BackplaneMessage> _outbox = new();
    private readonly List<(BackplaneMessage Message, Task Publish)> _batch = new(BatchSize);
    private readonly ConcurrentDictionary<PendingKey, PendingChange> _pending = new();
    private readonly ConcurrentDictionary<string, long> _knownTags = new(StringComparer.Ordinal);

    // Recent changes by key hash (a collision only repeats a read), and the last time everything changed (a clear).
    private readonly long[] _changedAt = new long[4096];
    private long _changeSequence;
    private long _clearedAt;

    private int _outboxCount;
    private int _draining;
    private int _lost;
    private int _recovering;
    private int _tagRefreshNeeded;

    private enum Scope
    {
        None,

        /// <summary>Applying another node's tag invalidation: the wrapper must not write the tag record again.</summary>
        ApplyingRemoteTag,

        /// <summary>Reading tag records to recover: HybridCache does not see these reads, so they teach nothing.</summary>
        RecoveryRead,
    }

    /// <summary>Whether recovery has work left or is running (for tests: a recovered node has neither).</summary>
    internal bool IsRecovering => HasRecoveryWork || Volatile.Read(ref _recovering) != 0;

    /// <summary>
    /// Whether the node knows the invalidation time of <paramref name="tag"/> (for tests: it learns it when a read of the
    /// tag's record by HybridCache is over, a read overlapping a change repeated included).
    /// </summary>
    internal bool KnowsTag(string tag) => _knownTags.ContainsKey(tag);

    private bool HasRecoveryWork => !_pending.IsEmpty || Volatile.Read(ref _tagRefreshNeeded) != 0 || Volatile.Read(ref _lost) != 0;

    void IDistributedCacheObserver.OnChanged(string key, ReadOnlySpan<byte> value)
    {
        BackplaneMessage message = MessageFor(key, value);
        if (message.Kind == BackplaneMessageKind.Tag)
        {
            LearnTag(message.Text, message.Ticks);
        }

        Announce(message);
    }

    void IDistributedCacheObserver.OnChangeFailed(string key, ReadOnlySpan<byte> value) => _ = AddPending(MessageFor(key, value), needsDistributedCache: true);

    void IDistributedCacheObserver.OnRead(string key, ReadOnlySpan<byte> value, bool found)
    {
        if (s_scope.Value != Scope.RecoveryRead && TryGetTag(key, out string? tag))
        {
            // HybridCache reads a tag's record once and keeps the answer: this is the time it now holds for the tag.
            LearnTag(tag, found && value.Length == sizeof(long) ? BinaryPrimitives.ReadInt64LittleEndian(value) : 0);
        }
    }

    bool IDistributedCacheObserver.SkipWrite(string key)
        => s_scope.Value == Scope.ApplyingRemoteTag && key.StartsWith(IDistributedCacheObserver.TagKeyPrefix, StringComparison.Ordinal);

    long IDistributedCacheObserver.ReadStamp() => Volatile.Read(ref _changeSequence);

    bool IDistributedCacheObserver.ChangedSince(string key, long stamp)
        => Volatile.Read(ref _clearedAt) > stamp || Volatile.Read(ref _changedAt[SlotOf(key)]) > stamp;

    private static bool TryGetTag(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? tag)
    {
        if (key.Length > IDistributedCacheObserver.TagKeyPrefix.Length && key.StartsWith(IDistributedCacheObserver.TagKeyPrefix, StringComparison.Ordinal))
        {
            tag = key[IDistributedCacheObserver.TagKeyPrefix.Length..];
            return true;
        }

        tag = null;
        return false;
    }

    private int SlotOf(string key) => key.GetHashCode(StringComparison.Ordinal) & (_changedAt.Length - 1);

    private BackplaneMessage MessageFor(string key, ReadOnlySpan<byte> value)
        => TryGetTag(key, out string? tag)
            ? BackplaneMessage.ForTag(NodeId, tag, value.Length >= sizeof(long) ? BinaryPrimitives.ReadInt64LittleEndian(value) : 0)
            : BackplaneMessage.ForKey(NodeId, key);

    private void MarkChanged(string key) => RaiseTo(ref _changedAt[SlotOf(key)], Interlocked.Increment(ref _changeSequence));

    private void MarkAllChanged() => RaiseTo(ref _clearedAt, Interlocked.Increment(ref _changeSequence));

    private static void RaiseTo(ref long location, long value)
    {
        // Two changes of one slot may race; the later sequence must win, or a read could miss the later change.
        for (long current = Volatile.Read(ref location); current < value; current = Volatile.Read(ref location))
        {
            if (Interlocked.CompareExchange(ref location, value, current) == current)
            {
                return;
            }
        }
    }

    private void LearnTag(string tag, long ticks)
    {
        if (_knownTags.Count >= MaximumKnownTags && !_knownTags.ContainsKey(tag))
        {
            return; // bounded: a tag met past the first 10,000 is not re-read on recovery (docs/scaling-out.md)
        }

        _knownTags.AddOrUpdate(tag, static (_, ticks) => ticks, static (_, known, ticks) => Math.Max(known, ticks), ticks);
    }

    /// <summary>Queues a message for the sender (what a write pays for announcing itself), or keeps it for the next probe period if the queue is full.</summary>
    private void Announce(BackplaneMessage message)
    {
        if (!TryEnqueue(message) && !IsDisposed && AddPending(message, needsDistributedCache: false))
        {
            _counters.Failed.Increment();
        }
    }

    private bool TryEnqueue(BackplaneMessage message)
    {
        if (IsDisposed)
        {
            return false;
        }

        if (Interlocked.Increment(ref _outboxCount) > _maximumPendingChanges)
        {
            // Changes come faster than Redis takes them (or a frozen Redis holds the sender): the caller keeps the message.
            Interlocked.Decrement(ref _outboxCount);
            return false;
        }

        _outbox.Enqueue(message);
        if (Interlocked.Exchange(ref _draining, 1) == 0)
        {
            // One work item object, made once: scheduling the sender allocates nothing.
            ThreadPool.UnsafeQueueUserWorkItem(_sender, preferLocal: false);
        }

        return true;
    }

    private async Task DrainAsync()
    {
        // One sender at a time (the _draining flag), so the batch list is reused.
        List<(BackplaneMessage Message, Task Publish)> batch = _batch;
        while (!IsDisposed)
        {
            // Published in batches without waiting for each answer, so Redis pipelines them on the connection.
            while (batch.Count < BatchSize && _outbox.TryDequeue(out BackplaneMessage message))
            {
                Interlocked.Decrement(ref _outboxCount);
                batch.Add((message, Publish(message)));
            }

            if (batch.Count == 0)
            {
                // Release the sender, then look again: a message queued between the last dequeue and the release found
                // the flag still set and scheduled nothing.
                Volatile.Write(ref _draining, 0);
                if (_outbox.IsEmpty || Interlocked.Exchange(ref _draining, 1) != 0)
                {
                    return;
                }

                continue;
            }

            foreach ((BackplaneMessage message, Task publish) in batch)
            {
                try
                {
                    if (!publish.IsCompletedSuccessfully)
                    {
                        await publish.WaitAsync(_publishTimeout, _time).ConfigureAwait(false);
                    }

                    _counters.Sent.Increment();
                }
                catch (Exception exception) when (exception is not OutOfMemoryException)
                {
                    // Not sent (or not known to be): kept, and announced again once the node hears Redis again. A late
                    // success makes it arrive twice, which costs the others a local miss.
                    _ = publish.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                    if (AddPending(message, needsDistributedCache: false))
                    {
                        _counters.Failed.Increment(); // kept; one that could not be kept counts as dropped instead
                    }
                }
            }

            batch.Clear();
        }
    }

    private Task Publish(BackplaneMessage message)
    {
        try
        {
            return _transport.PublishAsync(Channel, message.Encode());
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            return Task.FromException(exception);
        }
    }

    /// <summary>Keeps a change for recovery; returns false if it could not (the limit was reached: it is lost).</summary>
    private bool AddPending(BackplaneMessage message, bool needsDistributedCache)
    {
        var key = new PendingKey(message.Kind, message.Text);
        if (_pending.Count >= _maximumPendingChanges && !_pending.ContainsKey(key))
        {
            Lose();
            return false;
        }

        // One entry per key or tag: repeating the latest change is enough. It needs Redis fixed if any attempt failed there.
        _pending.AddOrUpdate(
            key,
            static (_, added) => new PendingChange(added.Message, added.NeedsDistributedCache),
            static (_, old, added) => new PendingChange(
                added.Message with { Ticks = Math.Max(old.Message.Ticks, added.Message.Ticks) },
                old.NeedsDistributedCache || added.NeedsDistributedCache),
            (Message: message, NeedsDistributedCache: needsDistributedCache));
        return true;
    }

    private void Lose()
    {
        // Some change will never be announced: on recovery every node is told to drop its whole local cache instead.
        _counters.Dropped.Increment();
        Volatile.Write(ref _lost, 1);
    }

    /// <summary>
    /// Makes up for what the node missed or could not do while it did not hear Redis. Runs once at a time, when the node
    /// hears again and then on each probe period while work remains: a step that fails (Redis back for pub/sub but the
    /// wrapper's circuit still open, say) is tried again on the next period.
    /// </summary>
    private async Task RecoverAsync()
    {
        if (Interlocked.Exchange(ref _recovering, 1) != 0)
        {
            return;
        }

        try
        {
            if (Interlocked.Exchange(ref _lost, 0) != 0 && !TryEnqueue(BackplaneMessage.ForClear(NodeId)))
            {
                Volatile.Write(ref _lost, 1);
                return;
            }

            IDistributedCache? distributedCache = _distributedCache();
            foreach (KeyValuePair<PendingKey, PendingChange> pending in _pending)
            {
                if (IsDisposed || !IsConnected)
                {
                    return;
                }

                BackplaneMessage message = pending.Value.Message;
                if (pending.Value.NeedsDistributedCache && distributedCache is not null && message.Kind != BackplaneMessageKind.Clear)
                {
                    await RepeatInDistributedCacheAsync(distributedCache, message).ConfigureAwait(false);
                }
                else if (!TryEnqueue(message))
                {
                    return; // the sender's queue is full: the rest waits for the next probe period
                }

                // Only this entry: a newer failure for the key, recorded meanwhile, stays to be repeated.
                _pending.TryRemove(pending);
            }

            if (Interlocked.Exchange(ref _tagRefreshNeeded, 0) != 0 && !await RefreshTagsAsync(distributedCache).ConfigureAwait(false))
            {
                Volatile.Write(ref _tagRefreshNeeded, 1);
            }
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // Redis not usable yet through the wrapper (its circuit may stay open for its break): the failed change
            // stays pending (the wrapper reported the failure), and the next probe period tries again.
        }
        finally
        {
            Volatile.Write(ref _recovering, 0);
        }
    }

    private async Task RepeatInDistributedCacheAsync(IDistributedCache distributedCache, BackplaneMessage message)
    {
        if (message.Kind == BackplaneMessageKind.Key)
        {
            // Redis may still hold the value from before the change that failed: remove it. Through the wrapper, which
            // announces the removal once it is done. This node's own copy goes too, since it ignores its own messages
            // and may have read the old value back.
            await distributedCache.RemoveAsync(message.Text).ConfigureAwait(false);
            _localCache.TryRemove(message.Text);
            return;
        }

        // A tag record is rewritten only if Redis holds an older one: a later invalidation by another node must stay.
        string key = IDistributedCacheObserver.TagKeyPrefix + message.Text;
        byte[]? current = await ReadForRecoveryAsync(distributedCache, key).ConfigureAwait(false);
        if (current is { Length: sizeof(long) } && BinaryPrimitives.ReadInt64LittleEndian(current) >= message.Ticks)
        {
            Announce(message);
            return;
        }

        byte[] record = new byte[sizeof(long)];
        BinaryPrimitives.WriteInt64LittleEndian(record, message.Ticks);
        await distributedCache.SetAsync(key, record, s_tagRecordOptions).ConfigureAwait(false);
    }

    /// <summary>Re-reads the record of every tag the node knows; applies those invalidated while it did not hear.</summary>
    private async Task<bool> RefreshTagsAsync(IDistributedCache? distributedCache)
    {
        if (distributedCache is null)
        {
            return true;
        }

        try
        {
            foreach (KeyValuePair<string, long> known in _knownTags)
            {
                if (IsDisposed || !IsConnected)
                {
                    return false;
                }

                byte[]? record = await ReadForRecoveryAsync(distributedCache, IDistributedCacheObserver.TagKeyPrefix + known.Key).ConfigureAwait(false);
                long ticks = record is { Length: sizeof(long) } ? BinaryPrimitives.ReadInt64LittleEndian(record) : 0;
                if (ticks > known.Value)
                {
                    await ApplyTagAsync(known.Key, ticks).ConfigureAwait(false);
                }
            }

            return true;
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            return false;
        }
    }

    private static async Task<byte[]?> ReadForRecoveryAsync(IDistributedCache distributedCache, string key)
    {
        // An async method: the scope set here flows into the wrapper's read and ends with this method.
        s_scope.Value = Scope.RecoveryRead;
        return await distributedCache.GetAsync(key).ConfigureAwait(false);
    }

    /// <summary>Applies another node's tag invalidation (or one found on recovery) to this node's HybridCache.</summary>
    private async Task ApplyTagAsync(string tag, long ticks)
    {
        try
        {
            if (_hybridCache() is not { } cache)
            {
                return;
            }

            // HybridCache invalidates the tag locally as of now (later than the other node's time: entries made in
            // between are read again, which is safe), and would write the tag record to Redis: the wrapper skips that
            // write, since the record is already there. The scope ends with this async method.
            s_scope.Value = Scope.ApplyingRemoteTag;
            await cache.RemoveByTagAsync(tag).ConfigureAwait(false);
            LearnTag(tag, ticks);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // HybridCache disposed (the container shutting down), or it threw: the local expiration remains the backstop.
        }
    }

    private readonly record struct PendingKey(BackplaneMessageKind Kind, string Name);

    /// <summary>Runs the sender on the thread pool; one instance per backplane, so queuing it allocates nothing.</summary>
    private sealed class Sender(RedisBackplane backplane) : IThreadPoolWorkItem
    {
        public void Execute() => _ = backplane.DrainAsync();
    }

    /// <summary>A class, compared by reference: recovery removes the entry it repeated, never a newer one for the same key.</summary>
    private sealed class PendingChange(BackplaneMessage message, bool needsDistributedCache)
    {
        public BackplaneMessage Message { get; } = message;

        public bool NeedsDistributedCache { get; } = needsDistributedCache;
    }
}
