using System.Runtime.CompilerServices;

namespace SafeMem.Extensions.Backplane;

/// <summary>
/// Whether the node hears Redis, how it finds out, and what it does while it does not.
/// </summary>
/// <remarks>
/// <code>
///  Starting ──first probe back──> Hearing ──probe late 3 intervals, or connection lost──> Deaf
///      │                            ^                                                      │
///      └── local cache dropped every DisconnectedLocalCacheExpiration ───────── (both) ────┘
///                                   └────────── a probe sent after the loss comes back ────┘
///                                     (shared channel subscribed again, local cache dropped; recovery: tags re-read,
///                                      changes repeated)
/// </code>
/// Only the node's own probes say it hears: a probe is published to the node's own channel, through Redis, carrying its
/// send time, so one that comes back proves every message published before that time reached this node. The state
/// changes under one lock, taken a few times per probe interval; nothing a request does takes it.
/// </remarks>
public sealed partial class RedisBackplane
{
    private readonly object _healthLock = new();
    private readonly TimeSpan _probeInterval;
    private readonly long _deafAfter;
    private readonly long _disconnectedExpiration;
    private HealthState _state = HealthState.Starting;

    // Timestamps of _time: the send time of the newest probe heard, when the node last found itself deaf, when it drops
    // its local cache next while deaf, and when it last subscribed again while deaf.
    private long _lastHeard;
    private long _deafDetectedAt;
    private long _nextDeafClear;
    private long _lastResubscribe;
    private volatile bool _subscribed;
    private int _subscribing;
    private bool _rejoining;

    private enum HealthState
    {
        Starting,
        Hearing,
        Deaf,
    }

    /// <summary>Gets whether the node hears the other nodes: its latest probe came back in time.</summary>
    public bool IsConnected
    {
        get
        {
            lock (_healthLock)
            {
                return _state == HealthState.Hearing;
            }
        }
    }

    /// <summary>
    /// One probe period: subscribes if not yet, sends a probe, finds out whether the node went deaf, drops the local
    /// cache when a deaf node has trusted it long enough, and resumes recovery work. Called by the probe loop (and by
    /// unit tests, which drive the clock).
    /// </summary>
    internal void Tick()
    {
        if (IsDisposed)
        {
            return;
        }

        long now = _time.GetTimestamp();
        bool clear = false;
        lock (_healthLock)
        {
            if (_state == HealthState.Hearing && now - _lastHeard > _deafAfter)
            {
                BecomeDeafLocked(now);
            }

            if (_state != HealthState.Hearing)
            {
                if (now >= _nextDeafClear)
                {
                    clear = true;
                    while (_nextDeafClear <= now)
                    {
                        _nextDeafClear += _disconnectedExpiration;
                    }
                }

                // A subscription that failed (Redis down at start-up) or was lost in a way the client did not notice
                // is made again, at most once per three probe intervals.
                if (now - _lastResubscribe >= _deafAfter)
                {
                    _lastResubscribe = now;
                    _subscribed = false;
                }
            }
        }

        if (clear)
        {
            ClearLocalCache(_counters.RemovedWhileDisconnected);
        }

        EnsureSubscribed();
        if (_subscribed)
        {
            _ = SendProbeAsync(now);
        }

        if (IsConnected && HasRecoveryWork)
        {
            _ = RecoverAsync();
        }
    }

    private static async Task RunProbesAsync(WeakReference<RedisBackplane> weak, IBackplaneTransport transport, TimeSpan interval, TimeProvider time, CancellationToken stop)
    {
        try
        {
            using var timer = new PeriodicTimer(interval, time);
            do
            {
                if (!TickIfAlive(weak))
                {
                    // Dropped without being disposed: close the connection it opened, which nothing else will.
                    await transport.DisposeAsync().ConfigureAwait(false);
                    return;
                }
            }
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
            // Disposed.
        }
    }

    // Not inlined, and not async: the backplane must not be a local of the loop's state machine, which the timer keeps.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool TickIfAlive(WeakReference<RedisBackplane> weak)
    {
        if (!weak.TryGetTarget(out RedisBackplane? backplane))
        {
            return false;
        }

        backplane.Tick();
        return true;
    }

    private void EnsureSubscribed()
    {
        if (!_subscribed && Interlocked.CompareExchange(ref _subscribing, 1, 0) == 0)
        {
            _ = SubscribeAsync();
        }
    }

    private async Task SubscribeAsync()
    {
        try
        {
            // The probe channel first: hearing a probe must imply the shared channel's subscription was made before it.
            await _transport.SubscribeAsync(_probeChannel).ConfigureAwait(false);
            await _transport.SubscribeAsync(Channel).ConfigureAwait(false);
            _subscribed = true;
            _ = SendProbeAsync(_time.GetTimestamp()); // hear at once rather than at the next period
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // Redis unreachable (or the connection factory threw): the next probe period tries again.
        }
        finally
        {
            Volatile.Write(ref _subscribing, 0);
        }
    }

    private async Task SendProbeAsync(long now)
    {
        try
        {
            await _transport.PublishAsync(_probeChannel, BackplaneMessage.ForProbe(NodeId, now).Encode()).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // A probe that is not sent does not come back: that is how the node finds out.
        }
    }

    private void OnProbeHeard(long sentAt)
    {
        bool rejoin = false;
        bool starting = false;
        lock (_healthLock)
        {
            _lastHeard = Math.Max(_lastHeard, sentAt);

            // Only a probe sent after the loss was noticed proves the node hears again; a late one from before does not.
            if (_state != HealthState.Hearing && sentAt >= _deafDetectedAt && !_rejoining)
            {
                starting = _state == HealthState.Starting;
                _rejoining = true;
                rejoin = true;
            }
        }

        if (rejoin)
        {
            _ = RejoinAsync(starting);
        }
    }

    private async Task RejoinAsync(bool starting)
    {
        try
        {
            // The probe proves the node hears its own channel. After a reconnection the client restores the two
            // subscriptions separately, so make sure of the shared one before trusting it (at start-up SubscribeAsync
            // subscribed to it before the first probe was sent).
            if (!starting)
            {
                await _transport.SubscribeAsync(Channel).ConfigureAwait(false);
            }

            // Whatever the local cache holds may have missed changes announced while the node could not hear (at start,
            // those made between its first reads and its subscription): drop it, then count the node as hearing, and
            // re-read the tags it knows and repeat what it could not do (RecoverAsync).
            ClearLocalCache(_counters.RemovedByRecovery);
            lock (_healthLock)
            {
                if (_state != HealthState.Hearing)
                {
                    _state = HealthState.Hearing;
                }
            }

            if (!starting)
            {
                _counters.Reconnections.Increment();
            }

            Volatile.Write(ref _tagRefreshNeeded, 1);
            _ = RecoverAsync();
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // Not subscribed after all (the connection dropped again, or the container is shutting down): the node stays
            // disconnected, and the next probe that comes back tries again.
        }
        finally
        {
            lock (_healthLock)
            {
                _rejoining = false;
            }
        }
    }

    private void OnConnectionLost()
    {
        lock (_healthLock)
        {
            if (_state == HealthState.Hearing)
            {
                BecomeDeafLocked(_time.GetTimestamp());
            }
        }
    }

    private void BecomeDeafLocked(long now)
    {
        // Messages published after the last probe heard may be lost: the local cache is trusted from then on, for
        // DisconnectedLocalCacheExpiration at most (the next probe period drops it if that time has passed already).
        _state = HealthState.Deaf;
        _deafDetectedAt = now;
        _nextDeafClear = _lastHeard + _disconnectedExpiration;
        _lastResubscribe = now;
    }
}
