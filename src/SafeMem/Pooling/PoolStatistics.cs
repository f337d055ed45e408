namespace SafeMem.Pooling;

/// <summary>An immutable snapshot of a <see cref="TrackedObjectPool{T}"/>'s figures: the same ones its instruments publish.</summary>
/// <remarks>
/// Counts are cumulative since the pool was built. <see cref="OutstandingCount"/> = <see cref="Rentals"/> -
/// <see cref="Returns"/> - <see cref="Leaks"/>; taken while other threads use the pool, the figures are each current
/// but read a moment apart.
/// </remarks>
public sealed class PoolStatistics
{
    /// <summary>Gets the pool's name.</summary>
    public required string Name { get; init; }

    /// <summary>Gets the number of objects handed out by <c>Get</c>.</summary>
    public long Rentals { get; init; }

    /// <summary>Gets the number of objects given back by <c>Return</c> and accepted (kept or dropped); refused returns are <see cref="InvalidReturns"/>.</summary>
    public long Returns { get; init; }

    /// <summary>Gets the number of objects the pool's policy created (rentals that found the pool empty).</summary>
    public long Creations { get; init; }

    /// <summary>Gets the number of returned objects the pool let go of (and disposed, if disposable): the pool was full, or the policy refused them.</summary>
    public long Drops { get; init; }

    /// <summary>Gets the part of <see cref="Drops"/> the policy refused (its <c>Return</c> gave <see langword="false"/>); the rest found the pool full.</summary>
    public long PolicyRejections { get; init; }

    /// <summary>
    /// Gets the number of objects rented and neither returned nor found leaked. A leak that was not sampled stays
    /// counted here, so a count that grows while traffic is flat is itself the sign of a leak.
    /// </summary>
    public long OutstandingCount { get; init; }

    /// <summary>Gets the number of tracked rentals found unreachable without having been returned.</summary>
    public long Leaks { get; init; }

    /// <summary>Gets the number of returns the pool refused: a second return of one rental, or an object not rented from it.</summary>
    public long InvalidReturns { get; init; }

    /// <inheritdoc/>
    public override string ToString()
        => $"{Name}: {Rentals} rentals, {Returns} returns, {Creations} creations, {Drops} drops, {OutstandingCount} outstanding, {Leaks} leaks, {InvalidReturns} invalid returns";
}
