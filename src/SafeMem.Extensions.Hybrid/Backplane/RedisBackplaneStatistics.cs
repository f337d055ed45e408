namespace SafeMem.Extensions.Backplane;

/// <summary>An immutable snapshot of a <see cref="RedisBackplane"/>'s figures: the same ones its <c>safemem.backplane.*</c> instruments publish.</summary>
/// <remarks>
/// Counts are cumulative since the backplane was built. Taken while messages flow, the figures are each current but
/// read a moment apart.
/// </remarks>
public sealed class RedisBackplaneStatistics
{
    /// <summary>Gets the backplane's name (the <c>safemem.name</c> tag of its measurements).</summary>
    public required string Name { get; init; }

    /// <summary>Gets whether the node heard the other nodes when the snapshot was taken (its probe came back in time).</summary>
    public bool IsConnected { get; init; }

    /// <summary>Gets the number of messages Redis took from this node (changes announced to the other nodes).</summary>
    public long Sent { get; init; }

    /// <summary>Gets the number of messages that could not be sent; each was kept, to be announced again on recovery.</summary>
    public long Failed { get; init; }

    /// <summary>Gets the number of changes neither sent nor kept (more than <see cref="RedisBackplaneOptions.MaximumPendingChanges"/> waiting); a recovery then tells every node to drop its local cache.</summary>
    public long Dropped { get; init; }

    /// <summary>Gets the number of messages received from other nodes and applied (the node's own are not counted).</summary>
    public long Received { get; init; }

    /// <summary>Gets the number of messages received that were not understood, and ignored.</summary>
    public long Malformed { get; init; }

    /// <summary>Gets the number of times the node heard the other nodes again after a time it could not.</summary>
    public long Reconnections { get; init; }

    /// <summary>Gets the number of local-cache entries removed because another node changed them (by key, or by a clear).</summary>
    public long RemovedByInvalidation { get; init; }

    /// <summary>Gets the number of local-cache entries removed when the node heard the other nodes again (it may have missed their changes).</summary>
    public long RemovedByRecovery { get; init; }

    /// <summary>Gets the number of local-cache entries removed while the node could not hear the other nodes (<see cref="RedisBackplaneOptions.DisconnectedLocalCacheExpiration"/>).</summary>
    public long RemovedWhileDisconnected { get; init; }

    /// <summary>Gets the number of changes waiting to be announced or repeated on recovery when the snapshot was taken.</summary>
    public int PendingChanges { get; init; }
}
