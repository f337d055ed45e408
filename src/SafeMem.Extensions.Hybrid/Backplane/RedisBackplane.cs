using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using SafeMem.Extensions.Caching;
using SafeMem.Telemetry;

namespace SafeMem.Extensions.Backplane;

/// <summary>
/// Tells the other nodes of an application, over Redis pub/sub, when this node changed a HybridCache entry, so that
/// they drop their local (L1) copy at once rather than serve it until its local expiration: registered by
/// <c>services.AddSafeMemHybridCache(...).AddSafeMemRedisBackplane(...)</c>.
/// </summary>
/// <remarks>
/// <para><b>What it announces.</b> Every write or removal that reached the distributed cache through the node's
/// <see cref="ResilientDistributedCache"/> (HybridCache's <c>SetAsync</c>, <c>RemoveAsync</c>, and the write-back of a
/// value its factory made), after it reached Redis, so a node that drops its copy and reads again gets the new value;
/// and every tag invalidation (<c>RemoveByTagAsync</c>), with its time, which other nodes apply to their HybridCache.
/// Messages are small (a key or a tag, the node's id: see <c>docs/scaling-out.md</c>); a node ignores its own. Sending
/// is fire-and-forget: a write only queues its message (tens of nanoseconds), a sender publishes it.</para>
/// <para><b>Delivery is at most once.</b> A message can be lost (a node disconnected, Redis restarting), so the local
/// expiration stays the backstop. Each node checks that it hears Redis (a probe to itself every
/// <see cref="RedisBackplaneOptions.ProbeInterval"/>); while it cannot, it drops its whole local cache every
/// <see cref="RedisBackplaneOptions.DisconnectedLocalCacheExpiration"/>, and when it hears again it drops it once more,
/// re-reads the invalidation time of every tag it knows, and repeats the changes Redis refused meanwhile (removing
/// each key from Redis again, rewriting each tag record) and announces them. No request ever waits for any of this.</para>
/// <para><b>A read that overlaps a change is repeated.</b> A read of the distributed cache that was in flight when
/// another node's change of that key arrived may have fetched the old value; the wrapper reads again (up to twice),
/// and the repeat sees the new value, since changes are announced only once they are in Redis. A change that arrives in
/// the microseconds between such a read finishing and HybridCache storing its result is missed; the local expiration
/// bounds that.</para>
/// <para><b>What it holds.</b> Strongly: its Redis connection (closed on disposal only if it opened it), the local cache
/// it drops entries from, the service provider it finds HybridCache and the wrapper in (lazily, as they are built
/// after it), and bounded sets: changes waiting to be sent or repeated (<see cref="RedisBackplaneOptions.MaximumPendingChanges"/>
/// each), the invalidation times of the first 10,000 tags the node has met, and a fixed 32 KB table of recent changes
/// for overlapping reads. Weakly: the Redis message and connection handlers and the probe timer reach it through a
/// weak reference, so a backplane that is no longer referenced (a container dropped without being disposed) is
/// collected, and its timer then closes the connection it opened.</para>
/// <para><b>Thread-safety.</b> Every member is safe to call concurrently; messages are handled on the connection's
/// threads, probes on the thread pool.</para>
/// <para><b>Disposal</b> (by the container) stops the probes, unsubscribes, and closes the connection if the backplane
/// opened it; changes not yet announced are lost, as they would be if the node stopped.</para>
/// <para><b>User code that throws.</b> A connection factory that throws is called again on the next probe. A local cache
/// or HybridCache already disposed (the container shutting down) is ignored. Nothing is ever thrown into the Redis
/// client's threads or into a request.</para>
/// </remarks>
[DebuggerDisplay("Name = {Name}, IsConnected = {IsConnected}")]
public sealed partial class RedisBackplane : IDistributedCacheObserver, IDisposable, IAsyncDisposable
{
    private const string ChannelName = "safemem-backplane";
    private const int MaximumKnownTags = 10_000;
    private const int BatchSize = 256;

    private readonly IBackplaneTransport _transport;
    private readonly BoundedMemoryCache _localCache;
    private readonly Func<HybridCache?> _hybridCache;
    private readonly Func<IDistributedCache?> _distributedCache;
    private readonly TimeProvider _time;
    private readonly BackplaneCounters _counters;
    private readonly string _probeChannel;
    private readonly int _maximumPendingChanges;
    private readonly TimeSpan _publishTimeout;
    private readonly CancellationTokenSource _stop = new();
    private readonly Sender _sender;
    private int _disposed;

    /// <summary>Creates a backplane; <c>AddSafeMemRedisBackplane</c> does it (and tests, with a transport of their own).</summary>
    internal RedisBackplane(
        RedisBackplaneOptions options,
        BoundedMemoryCache localCache,
        Func<HybridCache?> hybridCache,
        Func<IDistributedCache?> distributedCache,
        IMeterFactory? fallbackMeterFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(localCache);
        Func<Action<string, byte[]?>, IBackplaneTransport>? transportFactory = options.TransportFactory;
        if (transportFactory is null && !options.HasConnection)
        {
            throw new InvalidOperationException(RedisBackplaneOptions.NoConnectionMessage);
        }

        NodeId = Guid.NewGuid();
        _sender = new Sender(this);
        Channel = options.ChannelPrefix + ChannelName;
        _probeChannel = Channel + ":" + NodeId.ToString("N");
        _localCache = localCache;
        _hybridCache = hybridCache;
        _distributedCache = distributedCache;
        _time = options.TimeProvider;
        _maximumPendingChanges = options.MaximumPendingChanges;
        _probeInterval = options.ProbeInterval;
        _publishTimeout = 2 * options.ProbeInterval;
        _deafAfter = ToTimestamp(3 * options.ProbeInterval);
        _disconnectedExpiration = Math.Max(1, ToTimestamp(options.DisconnectedLocalCacheExpiration));
        _counters = new BackplaneCounters(InstanceNames.Resolve(options.Name, "backplane"), () => IsConnected, () => PendingChanges);

        // Until the first probe comes back the node hears nothing: it is "disconnected since it started".
        long now = _time.GetTimestamp();
        _lastHeard = now;
        _deafDetectedAt = now;
        _nextDeafClear = now + _disconnectedExpiration;

        // The transport's handlers (held by the Redis connection, which its own timers keep alive) and the probe loop
        // reach this backplane only weakly: neither may keep a dropped backplane, its local cache and provider alive.
        var weak = new WeakReference<RedisBackplane>(this);
        Action<string, byte[]?> onMessage = (channel, message) =>
        {
            if (weak.TryGetTarget(out RedisBackplane? backplane))
            {
                backplane.OnMessage(channel, message);
            }
        };
        _transport = transportFactory?.Invoke(onMessage) ?? new RedisBackplaneTransport(options, onMessage);
        _transport.ConnectionLost += () =>
        {
            if (weak.TryGetTarget(out RedisBackplane? backplane))
            {
                backplane.OnConnectionLost();
            }
        };

        // Not kept: the registry holds the counters weakly and forgets them once this backplane (their only owner) is gone.
        _ = BackplaneCounters.Registry(SafeMemMeter.Resolve(options.MeterFactory ?? fallbackMeterFactory)).Register(_counters, _counters.Name);

        if (!options.ManualProbes)
        {
            // On the thread pool: connecting (or a user's connection factory) must not run on the thread that resolved us.
            // Locals only: the closure must not capture this.
            IBackplaneTransport transport = _transport;
            TimeSpan interval = options.ProbeInterval;
            TimeProvider time = options.TimeProvider;
            CancellationToken stop = _stop.Token;
            _ = Task.Run(() => RunProbesAsync(weak, transport, interval, time, stop));
        }
    }

    /// <summary>Gets this node's id, carried by every message it sends (a node ignores messages with its own id).</summary>
    public Guid NodeId { get; }

    /// <summary>Gets the Redis channel the nodes talk on: <see cref="RedisBackplaneOptions.ChannelPrefix"/> + <c>safemem-backplane</c>.</summary>
    public string Channel { get; }

    /// <summary>Gets the backplane's name: the <c>safemem.name</c> tag of its measurements.</summary>
    public string Name => _counters.Name;

    /// <summary>Returns a snapshot of the backplane's figures: messages by outcome, reconnections, local entries removed by reason.</summary>
    public RedisBackplaneStatistics GetStatistics() => _counters.Snapshot();

    /// <summary>Changes waiting to be sent or repeated on recovery.</summary>
    internal int PendingChanges => Volatile.Read(ref _outboxCount) + _pending.Count;

    private bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Stops the probes, unsubscribes, and closes the Redis connection if the backplane opened it.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Stops the probes, unsubscribes, and closes the Redis connection if the backplane opened it.</summary>
    /// <returns>A task that completes when the connection is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stop.Cancel();
        await _transport.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Handles a message from Redis (or the test transport). Never throws into the transport's thread.</summary>
    internal void OnMessage(string channel, byte[]? message)
    {
        if (IsDisposed)
        {
            return;
        }

        if (message is null || !BackplaneMessage.TryDecode(message, out BackplaneMessage decoded))
        {
            _counters.Malformed.Increment();
            return;
        }

        try
        {
            if (string.Equals(channel, _probeChannel, StringComparison.Ordinal))
            {
                if (decoded.Kind == BackplaneMessageKind.Probe && decoded.Sender == NodeId)
                {
                    OnProbeHeard(decoded.Ticks);
                }
                else
                {
                    _counters.Malformed.Increment();
                }

                return;
            }

            if (decoded.Sender == NodeId)
            {
                return; // our own announcement, echoed by Redis to every subscriber, us included
            }

            switch (decoded.Kind)
            {
                case BackplaneMessageKind.Key:
                    _counters.Received.Increment();

                    // Marked first: a read of this key finishing from now on is repeated (see ChangedSince).
                    MarkChanged(decoded.Text);
                    if (_localCache.TryRemove(decoded.Text))
                    {
                        _counters.RemovedByInvalidation.Increment();
                    }

                    break;
                case BackplaneMessageKind.Tag:
                    _counters.Received.Increment();
                    _ = ApplyTagAsync(decoded.Text, decoded.Ticks);
                    break;
                case BackplaneMessageKind.Clear:
                    _counters.Received.Increment();
                    ClearLocalCache(_counters.RemovedByInvalidation);
                    break;
                default:
                    _counters.Malformed.Increment(); // probes travel on probe channels only
                    break;
            }
        }
        catch (ObjectDisposedException)
        {
            // The container is shutting down: the local cache is gone, and so is the need to invalidate it.
        }
    }

    private long ToTimestamp(TimeSpan duration) => (long)(duration.TotalSeconds * _time.TimestampFrequency);

    private void ClearLocalCache(StripedCounter removals)
    {
        MarkAllChanged();
        int count = _localCache.Count; // read just before: entries written meanwhile may or may not be counted
        _localCache.Clear();
        removals.Add(count);
    }
}
