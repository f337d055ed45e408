namespace SafeMem.Disposal;

/// <summary>An immutable snapshot of a <see cref="LeakTracker"/>'s figures: the same ones its instruments publish.</summary>
/// <remarks>
/// Counts are cumulative since the tracker was built. <see cref="Additions"/> = <see cref="Disposals"/> +
/// <see cref="Leaks"/> + <see cref="ObjectCount"/> holds exactly when no call races with the snapshot.
/// </remarks>
public sealed class LeakTrackerStatistics
{
    /// <summary>Gets the tracker's name.</summary>
    public required string Name { get; init; }

    /// <summary>Gets the number of objects tracked now: tracked, not closed, and not (yet) found leaked.</summary>
    /// <remarks>An object that is already unreachable counts here until a garbage collection finds it and its record is finalized.</remarks>
    public long ObjectCount { get; init; }

    /// <summary>Gets the number of objects tracked since creation (sampled <see cref="LeakTracker.Track"/> calls).</summary>
    public long Additions { get; init; }

    /// <summary>Gets the number of tracked objects closed (their handle disposed) before they became unreachable.</summary>
    public long Disposals { get; init; }

    /// <summary>Gets the number of tracked objects found unreachable without having been closed.</summary>
    public long Leaks { get; init; }

    /// <summary>Gets the leaks by the leaked object's type name (as in <see cref="LeakReport.ResourceTypeName"/>).</summary>
    public required IReadOnlyDictionary<string, long> LeaksByType { get; init; }

    /// <summary>Gets the number of <see cref="LeakTracker.LeakDetected"/> handler calls that threw.</summary>
    public long Failures { get; init; }

    /// <inheritdoc/>
    public override string ToString()
        => $"{Name}: {ObjectCount} tracked now, {Additions} tracked in all, {Disposals} disposed, {Leaks} leaked";
}
