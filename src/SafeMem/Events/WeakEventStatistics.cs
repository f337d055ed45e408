namespace SafeMem.Events;

/// <summary>
/// An immutable snapshot of a weak event source's figures: the same ones its instruments publish.
/// </summary>
/// <remarks>
/// Counts are cumulative since the source was built. Taken while other threads use the source, the figures are each
/// current but not mutually consistent.
/// </remarks>
public sealed class WeakEventStatistics
{
    /// <summary>Gets the source's name.</summary>
    public required string Name { get; init; }

    /// <summary>Gets the number of live subscriptions (after purging those whose subscriber was collected).</summary>
    public long Count { get; init; }

    /// <summary>Gets the number of subscriptions purged because the garbage collector collected their subscriber.</summary>
    public long Reclamations { get; init; }

    /// <summary>Gets the number of times the event was raised.</summary>
    public long Raises { get; init; }

    /// <summary>Gets the number of handler invocations that threw (or, for async handlers, whose task faulted or was cancelled).</summary>
    public long HandlerFailures { get; init; }

    /// <inheritdoc/>
    public override string ToString()
        => $"{Name}: {Count} subscriptions, {Reclamations} reclaimed by the GC, {Raises} raises, {HandlerFailures} handler failures";
}
