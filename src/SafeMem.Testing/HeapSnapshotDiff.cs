using System.Globalization;
using System.Text;

namespace SafeMem.Testing;

/// <summary>
/// What changed between two <see cref="HeapSnapshot"/>s, per type: the types that grew (largest byte growth first,
/// like <c>tracemalloc</c>'s <c>compare_to</c>) and the types that shrank.
/// </summary>
/// <remarks>Immutable, thread-safe; holds only names and numbers. Build one with <see cref="HeapSnapshot.Diff"/>.</remarks>
public sealed class HeapSnapshotDiff
{
    internal HeapSnapshotDiff(IReadOnlyList<HeapTypeDelta> grown, IReadOnlyList<HeapTypeDelta> shrunk, long countDelta, long bytesDelta)
    {
        Grown = grown;
        Shrunk = shrunk;
        CountDelta = countDelta;
        BytesDelta = bytesDelta;
    }

    /// <summary>Gets the types with more objects or more bytes in the later snapshot, largest <see cref="HeapTypeDelta.BytesDelta"/> first.</summary>
    public IReadOnlyList<HeapTypeDelta> Grown { get; }

    /// <summary>Gets the types with fewer objects or fewer bytes in the later snapshot, largest drop in bytes first.</summary>
    public IReadOnlyList<HeapTypeDelta> Shrunk { get; }

    /// <summary>Gets the change in the total number of objects.</summary>
    public long CountDelta { get; }

    /// <summary>Gets the change in total bytes.</summary>
    public long BytesDelta { get; }

    /// <summary>Gets the row of a type in <see cref="Grown"/> or <see cref="Shrunk"/>, or <see langword="null"/> when it did not change.</summary>
    /// <param name="type">The exact type (derived types have rows of their own).</param>
    /// <returns>The type's row, or <see langword="null"/>.</returns>
    public HeapTypeDelta? Find(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return Grown.FirstOrDefault(row => row.Type == type) ?? Shrunk.FirstOrDefault(row => row.Type == type);
    }

    /// <summary>Renders the grown types as a table, at most 20 rows.</summary>
    /// <returns>The table.</returns>
    public override string ToString() => ToString(20);

    /// <summary>Renders the grown types as a table: bytes and count deltas, then the totals now, then the type.</summary>
    /// <param name="maxRows">The most rows to print (the rest are summed in one line). Greater than zero.</param>
    /// <returns>The table.</returns>
    public string ToString(int maxRows)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxRows);
        CultureInfo culture = CultureInfo.InvariantCulture;
        var builder = new StringBuilder();
        builder.Append(culture, $"{"Bytes Δ",14} {"Count Δ",10} {"Bytes",14} {"Count",10}  Type\n");
        foreach (HeapTypeDelta row in Grown.Take(maxRows))
        {
            builder.Append(culture, $"{row.BytesDelta,14:+#,0;-#,0;0} {row.CountDelta,10:+#,0;-#,0;0} {row.Bytes,14:#,0} {row.Count,10:#,0}  {row.TypeName}\n");
        }

        if (Grown.Count > maxRows)
        {
            IEnumerable<HeapTypeDelta> rest = Grown.Skip(maxRows);
            builder.Append(culture, $"{rest.Sum(r => r.BytesDelta),14:+#,0;-#,0;0} {rest.Sum(r => r.CountDelta),10:+#,0;-#,0;0} {string.Empty,14} {string.Empty,10}  ({Grown.Count - maxRows} more types)\n");
        }

        builder.Append(culture, $"{BytesDelta,14:+#,0;-#,0;0} {CountDelta,10:+#,0;-#,0;0} {string.Empty,14} {string.Empty,10}  (whole heap)");
        return builder.ToString();
    }
}
