namespace SafeMem.Diagnostics.Heap;

/// <summary>
/// One point of a growth series: the heap's rows at a moment, and how much work had been done by then (runs of an
/// operation, seconds of traffic: any unit, counted from the same start for every sample).
/// </summary>
/// <remarks>
/// Immutable, thread-safe. A sample built from a <see cref="HeapSnapshot"/> refers to it (not owning it) so that
/// <see cref="HeapGrowthAnalyzer.Analyze"/> can find retention paths of new instances while it is open; one built from
/// a <see cref="HeapSnapshotRecord"/> finds them in the record's retention groups; one built from rows alone gives
/// figures without paths.
/// </remarks>
public sealed class HeapGrowthSample
{
    /// <summary>Initializes a sample from an open (or disposed) snapshot.</summary>
    /// <param name="work">The work done when the snapshot was taken. Finite, not negative.</param>
    /// <param name="snapshot">The snapshot; kept open, it lets the analysis find paths of new instances.</param>
    /// <exception cref="ArgumentNullException"><paramref name="snapshot"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="work"/> is negative, infinite or not a number.</exception>
    public HeapGrowthSample(double work, HeapSnapshot snapshot)
        : this(work, (snapshot ?? throw new ArgumentNullException(nameof(snapshot))).Types)
    {
        Snapshot = snapshot;
    }

    /// <summary>
    /// Initializes a sample from a snapshot record (kept after its dump was deleted, or read back from a snapshot file):
    /// its retention groups let the analysis find paths of new instances with no dump open.
    /// </summary>
    /// <param name="work">The work done when the snapshot was taken. Finite, not negative.</param>
    /// <param name="record">The record.</param>
    /// <exception cref="ArgumentNullException"><paramref name="record"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="work"/> is negative, infinite or not a number.</exception>
    public HeapGrowthSample(double work, HeapSnapshotRecord record)
        : this(work, (record ?? throw new ArgumentNullException(nameof(record))).Types)
    {
        Record = record;
    }

    /// <summary>Initializes a sample from rows (for tools that read snapshots back from files).</summary>
    /// <param name="work">The work done when the rows were read. Finite, not negative.</param>
    /// <param name="types">The rows.</param>
    /// <exception cref="ArgumentNullException"><paramref name="types"/>, or a row in it, is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="work"/> is negative, infinite or not a number.</exception>
    public HeapGrowthSample(double work, IEnumerable<HeapTypeSummary> types)
    {
        ArgumentNullException.ThrowIfNull(types);
        if (!double.IsFinite(work) || work < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(work), work, "The work done must be a finite number, zero or more.");
        }

        HeapTypeSummary[] rows = [.. types];
        if (Array.IndexOf(rows, null) >= 0)
        {
            throw new ArgumentNullException(nameof(types), "A row is null.");
        }

        Work = work;
        Types = rows;
    }

    /// <summary>Gets the work done when the sample was taken (cumulative, in the series' unit).</summary>
    public double Work { get; }

    /// <summary>Gets the heap's rows at that moment.</summary>
    public IReadOnlyList<HeapTypeSummary> Types { get; }

    /// <summary>Gets the snapshot the rows came from, or <see langword="null"/> for rows alone or a record.</summary>
    public HeapSnapshot? Snapshot { get; }

    /// <summary>Gets the snapshot record the rows came from, or <see langword="null"/> for rows alone or a snapshot.</summary>
    public HeapSnapshotRecord? Record { get; }
}
