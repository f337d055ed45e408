namespace SafeMem.Diagnostics;

/// <summary>An immutable snapshot of a <see cref="LeakWatcher"/>'s figures: the same ones its instruments publish.</summary>
/// <remarks>
/// Counts are cumulative since the watcher was built. <see cref="Watched"/> = <see cref="Collected"/> +
/// <see cref="Retained"/> + <see cref="Pending"/> holds exactly in every snapshot (each part of the watcher's table is
/// read under its lock); the other figures may lag a sweep that runs while the snapshot is taken.
/// </remarks>
public sealed class LeakWatcherStatistics
{
    /// <summary>Gets the watcher's name.</summary>
    public required string Name { get; init; }

    /// <summary>Gets the number of objects watched: <see cref="LeakWatcher.Watch"/> calls that created a record (a call for an object already watched is a <see cref="DuplicateWatches"/>).</summary>
    public long Watched { get; init; }

    /// <summary>Gets the number of watched objects the garbage collector collected before they were judged: the healthy outcome.</summary>
    public long Collected { get; init; }

    /// <summary>Gets the number of watched objects found retained (each raised <see cref="LeakWatcher.Retained"/> once).</summary>
    public long Retained { get; init; }

    /// <summary>Gets the number of watched objects not judged yet: fewer than <see cref="LeakWatcherOptions.RetainedAfterCollections"/> full collections have completed since they were watched.</summary>
    /// <remarks>An object that is already dead counts here until enough full collections have run: the watcher looks at an object only when it is due.</remarks>
    public long Pending { get; init; }

    /// <summary>Gets the number of retained objects the watcher keeps for <see cref="LeakWatcher.AnalyzeAsync"/>: still alive at its last check.</summary>
    public long RetainedAlive { get; init; }

    /// <summary>Gets the number of retained objects the garbage collector collected later (held longer than expected, by a cache with expiry or a slow finalizer, rather than forever).</summary>
    public long CollectedAfterRetention { get; init; }

    /// <summary>Gets the number of retained objects reported but not kept for analysis, because <see cref="LeakWatcherOptions.MaximumRetained"/> were kept already.</summary>
    public long RetainedBeyondLimit { get; init; }

    /// <summary>Gets the number of <see cref="LeakWatcher.Watch"/> calls for an object already watched (pending or retained), which created no second record.</summary>
    public long DuplicateWatches { get; init; }

    /// <summary>Gets the retained objects by type name (as in <see cref="RetainedObject.TypeName"/>).</summary>
    public required IReadOnlyDictionary<string, long> RetainedByType { get; init; }

    /// <summary>Gets the number of <see cref="LeakWatcher.Retained"/> and <see cref="LeakWatcher.AnalysisCompleted"/> handler calls that threw.</summary>
    public long Failures { get; init; }

    /// <summary>Gets the number of analyses that ran (<see cref="LeakWatcher.AnalyzeAsync"/> calls and automatic ones), explained or not.</summary>
    public long Analyses { get; init; }

    /// <inheritdoc/>
    public override string ToString()
        => $"{Name}: {Watched} watched, {Collected} collected, {Retained} retained ({RetainedAlive} still alive), {Pending} pending";
}
