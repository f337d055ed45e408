namespace SafeMem.Telemetry;

/// <summary>
/// The tag keys SafeMem attaches to its measurements. Every measurement carries <see cref="Name"/>.
/// </summary>
/// <remarks>
/// Keys follow OpenTelemetry conventions: lowercase, dotted, namespaced under <c>safemem.</c>.
/// They are constants so that dashboards and tests can refer to them without repeating strings.
/// </remarks>
public static class SafeMemTags
{
    /// <summary>The name a user gave to the block instance (<c>safemem.name</c>), so two instances can be told apart.</summary>
    public const string Name = "safemem.name";

    /// <summary>The result of a cache lookup (<c>safemem.cache.result</c>): <c>hit</c> or <c>miss</c>.</summary>
    public const string CacheResult = "safemem.cache.result";

    /// <summary>Why a cache let go of an entry (<c>safemem.cache.removal.reason</c>): <c>evicted</c>, <c>expired</c> or <c>rejected</c>.</summary>
    public const string CacheRemovalReason = "safemem.cache.removal.reason";

    /// <summary>
    /// The .NET type of a leaked resource (<c>safemem.tracker.resource.type</c>), on <c>safemem.tracker.leaks</c>: the
    /// type's full name as C# writes it (<c>MyApp.Connection</c>, <c>System.Collections.Generic.List&lt;int&gt;</c>, <c>MyApp.Outer&lt;int&gt;.Inner</c>),
    /// not lowercased, since type names are case-sensitive.
    /// </summary>
    public const string TrackerResourceType = "safemem.tracker.resource.type";

    /// <summary>
    /// The .NET type of an object a <c>LeakWatcher</c> found retained (<c>safemem.watcher.object.type</c>), on
    /// <c>safemem.watcher.retentions</c>: the type's full name as C# writes it, like <see cref="TrackerResourceType"/>.
    /// </summary>
    public const string WatcherObjectType = "safemem.watcher.object.type";

    /// <summary>Why a pool let go of a returned object (<c>safemem.pool.drop.reason</c>): <c>full</c> or <c>rejected</c> (by the pool policy).</summary>
    public const string PoolDropReason = "safemem.pool.drop.reason";

    /// <summary>The eviction policy of a cache (<c>safemem.cache.policy</c>): <c>lru</c> or <c>tinylfu</c>; on every measurement of a cache.</summary>
    public const string CachePolicy = "safemem.cache.policy";

    /// <summary>
    /// How an operation on a distributed cache behind a <c>ResilientDistributedCache</c> ended
    /// (<c>safemem.distributed_cache.outcome</c>): <c>succeeded</c>, <c>failed</c>, <c>timed_out</c>, <c>rejected</c>
    /// (the circuit was open), <c>throttled</c> (the limit of operations in flight was reached) or <c>cancelled</c> (by the caller).
    /// </summary>
    public const string DistributedCacheOutcome = "safemem.distributed_cache.outcome";

    /// <summary>
    /// What became of a message of a Redis backplane (<c>safemem.backplane.message.outcome</c>): <c>sent</c>,
    /// <c>failed</c> (not sent; kept to be sent again on recovery), <c>dropped</c> (not sent and not kept),
    /// <c>received</c> (from another node, applied) or <c>malformed</c> (not understood, ignored).
    /// </summary>
    public const string BackplaneMessageOutcome = "safemem.backplane.message.outcome";

    /// <summary>
    /// Why a Redis backplane removed local-cache entries (<c>safemem.backplane.removal.reason</c>): <c>invalidated</c>
    /// (another node changed them), <c>recovery</c> (the node heard the other nodes again after a time it could not) or
    /// <c>disconnected</c> (the node could not hear the other nodes for longer than it may trust its local cache).
    /// </summary>
    public const string BackplaneRemovalReason = "safemem.backplane.removal.reason";
}
