namespace SafeMem.Extensions.Caching;

/// <summary>
/// An immutable snapshot of a <see cref="ResilientDistributedCache"/>'s figures: the same ones its
/// <c>safemem.distributed_cache.*</c> instruments publish.
/// </summary>
/// <remarks>
/// Counts are cumulative since the cache was built; every operation that has finished is counted under exactly one
/// outcome, so <see cref="Operations"/> is their sum. Taken while other threads use the cache, the figures are each
/// current but read a moment apart.
/// </remarks>
public sealed class ResilientDistributedCacheStatistics
{
    /// <summary>Gets the cache's name (the <c>safemem.name</c> tag of its measurements).</summary>
    public required string Name { get; init; }

    /// <summary>Gets the number of operations the distributed cache completed in time (a miss is a success).</summary>
    public long Succeeded { get; init; }

    /// <summary>Gets the number of operations in which the distributed cache threw (a timeout excepted).</summary>
    public long Failed { get; init; }

    /// <summary>Gets the number of operations abandoned after the timeout, or that the distributed cache reported as timed out.</summary>
    public long TimedOut { get; init; }

    /// <summary>Gets the number of operations refused at once because the circuit was open: the distributed cache was not called.</summary>
    public long Rejected { get; init; }

    /// <summary>Gets the number of operations the caller cancelled.</summary>
    public long Cancelled { get; init; }

    /// <summary>
    /// Gets the number of operations refused at once because <see cref="MaximumOperationsInFlight"/> operations were
    /// in flight: the distributed cache was not called.
    /// </summary>
    public long Throttled { get; init; }

    /// <summary>Gets the number of finished operations: the sum of the outcomes above.</summary>
    public long Operations => Succeeded + Failed + TimedOut + Rejected + Throttled + Cancelled;

    /// <summary>Gets the number of times the circuit opened.</summary>
    public long CircuitOpenings { get; init; }

    /// <summary>Gets whether the circuit was open (or half-open, one trial under way) when the snapshot was taken.</summary>
    public bool IsCircuitOpen { get; init; }

    /// <summary>
    /// Gets the number of operations in flight when the snapshot was taken: started and not yet finished by the
    /// distributed cache, those abandoned after the timeout and still running there included.
    /// </summary>
    public int OperationsInFlight { get; init; }

    /// <summary>Gets the most operations the cache lets be in flight (<see cref="ResilientDistributedCacheOptions.MaximumOperationsInFlight"/>).</summary>
    public int MaximumOperationsInFlight { get; init; }
}
