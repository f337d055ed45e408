namespace SafeMem.Diagnostics;

/// <summary>What an <see cref="ILeakExplainer"/> found: one <see cref="RetentionTrace"/> per object it was asked about.</summary>
/// <remarks>Immutable once built; holds no object of the process.</remarks>
public sealed class LeakExplanation
{
    /// <summary>
    /// Gets one entry per handle of the <see cref="LeakExplanationRequest"/>, in its order: the object's retention trace,
    /// or <see langword="null"/> when the object was no longer alive when the heap was read (it was collected after the
    /// watcher last checked it, so it did not leak after all), or when nothing could be read (see <see cref="UnavailableReason"/>).
    /// </summary>
    public required IReadOnlyList<RetentionTrace?> Traces { get; init; }

    /// <summary>Gets what could not be fully inspected (root kinds the heap reader failed on or may miss), one note each.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>
    /// Gets why no object could be explained (the process could not dump itself: no permission, no disk space, a
    /// read-only or missing directory), or <see langword="null"/> when the heap was read.
    /// </summary>
    public string? UnavailableReason { get; init; }

    /// <summary>Gets how long the process was paused while its dump was written, when the explainer measured it.</summary>
    public TimeSpan? Pause { get; init; }

    /// <summary>Gets the size in bytes of the temporary dump the explainer wrote (and deleted), when it knows it.</summary>
    public long? DumpBytes { get; init; }

    /// <summary>Returns an explanation that explains nothing, for the reason given.</summary>
    /// <param name="count">The number of handles in the request (the number of <see langword="null"/> traces).</param>
    /// <param name="reason">Why nothing could be explained.</param>
    /// <returns>The explanation.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    /// <exception cref="ArgumentException"><paramref name="reason"/> is null, empty or white space.</exception>
    public static LeakExplanation Unavailable(int count, string reason)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        return new LeakExplanation { Traces = new RetentionTrace?[count], UnavailableReason = reason };
    }
}
