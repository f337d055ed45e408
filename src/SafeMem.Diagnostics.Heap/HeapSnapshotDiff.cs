using System.Globalization;
using System.Text;

namespace SafeMem.Diagnostics.Heap;

/// <summary>
/// What changed between two <see cref="HeapSnapshot"/>s, per type: the types that grew (largest byte growth first,
/// like <c>tracemalloc</c>'s <c>compare_to</c>) and the types that shrank.
/// </summary>
/// <remarks>
/// Immutable, thread-safe; holds only names and numbers. Build one with <see cref="HeapSnapshot.Diff"/>, or from rows
/// read back from a file with <see cref="Compare"/>.
/// </remarks>
public sealed class HeapSnapshotDiff
{
    internal HeapSnapshotDiff(IReadOnlyList<HeapTypeDelta> grown, IReadOnlyList<HeapTypeDelta> shrunk, long countDelta, long bytesDelta)
    {
        Grown = grown;
        Shrunk = shrunk;
        CountDelta = countDelta;
        BytesDelta = bytesDelta;
    }

    /// <summary>
    /// Compares two lists of rows, type by type. Rows pair by <see cref="HeapTypeSummary.TypeName"/>; where several rows
    /// of one side share a name (one type loaded twice), they pair by <see cref="HeapTypeSummary.MethodTable"/>, and
    /// what is left of that name is summed.
    /// </summary>
    /// <param name="before">The earlier rows.</param>
    /// <param name="after">The later rows.</param>
    /// <returns>The types that grew (largest byte growth first) and those that shrank.</returns>
    /// <exception cref="ArgumentNullException">An argument, or a row in it, is <see langword="null"/>.</exception>
    public static HeapSnapshotDiff Compare(IEnumerable<HeapTypeSummary> before, IEnumerable<HeapTypeSummary> after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        List<HeapTypeSummary> earlierRows = [.. before];
        List<HeapTypeSummary> laterRows = [.. after];
        if (earlierRows.Contains(null!) || laterRows.Contains(null!))
        {
            throw new ArgumentNullException(earlierRows.Contains(null!) ? nameof(before) : nameof(after), "A row is null.");
        }

        var deltas = new List<HeapTypeDelta>();
        ILookup<string, HeapTypeSummary> earlier = earlierRows.ToLookup(r => r.TypeName, StringComparer.Ordinal);
        ILookup<string, HeapTypeSummary> later = laterRows.ToLookup(r => r.TypeName, StringComparer.Ordinal);
        foreach (string name in earlier.Select(g => g.Key).Union(later.Select(g => g.Key), StringComparer.Ordinal))
        {
            List<HeapTypeSummary> old = [.. earlier[name]];
            List<HeapTypeSummary> now = [.. later[name]];
            if (old.Count > 1 || now.Count > 1)
            {
                // One name, several types (two load contexts): pair the same method table, sum the rest.
                foreach (HeapTypeSummary row in now.ToList())
                {
                    HeapTypeSummary? twin = row.MethodTable == 0 ? null : old.FirstOrDefault(o => o.MethodTable == row.MethodTable);
                    if (twin is not null)
                    {
                        old.Remove(twin);
                        now.Remove(row);
                        Add(deltas, name, twin, row);
                    }
                }
            }

            if (old.Count > 0 || now.Count > 0)
            {
                Add(deltas, name, Sum(old), Sum(now));
            }
        }

        long countDelta = laterRows.Sum(r => r.Count) - earlierRows.Sum(r => r.Count);
        long bytesDelta = laterRows.Sum(r => r.Bytes) - earlierRows.Sum(r => r.Bytes);
        return FromDeltas(deltas, countDelta, bytesDelta);

        static HeapTypeSummary? Sum(List<HeapTypeSummary> rows)
            => rows.Count switch
            {
                0 => null,
                1 => rows[0],
                _ => new HeapTypeSummary(0, rows[0].Type, rows[0].TypeName, rows.Sum(r => r.Count), rows.Sum(r => r.Bytes)),
            };

        static void Add(List<HeapTypeDelta> deltas, string name, HeapTypeSummary? old, HeapTypeSummary? now)
        {
            long countDelta = (now?.Count ?? 0) - (old?.Count ?? 0);
            long bytesDelta = (now?.Bytes ?? 0) - (old?.Bytes ?? 0);
            if (countDelta != 0 || bytesDelta != 0)
            {
                deltas.Add(new HeapTypeDelta(name, now?.Type ?? old?.Type, now?.Count ?? 0, now?.Bytes ?? 0, countDelta, bytesDelta));
            }
        }
    }

    private static HeapSnapshotDiff FromDeltas(List<HeapTypeDelta> deltas, long countDelta, long bytesDelta)
    {
        List<HeapTypeDelta> grown = deltas
            .Where(d => d.BytesDelta > 0 || (d.BytesDelta == 0 && d.CountDelta > 0))
            .OrderByDescending(d => d.BytesDelta).ThenByDescending(d => d.CountDelta).ThenBy(d => d.TypeName, StringComparer.Ordinal)
            .ToList();
        List<HeapTypeDelta> shrunk = deltas
            .Where(d => d.BytesDelta < 0 || (d.BytesDelta == 0 && d.CountDelta < 0))
            .OrderBy(d => d.BytesDelta).ThenBy(d => d.CountDelta).ThenBy(d => d.TypeName, StringComparer.Ordinal)
            .ToList();
        return new HeapSnapshotDiff(grown, shrunk, countDelta, bytesDelta);
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
    /// <param name="type">The exact type (derived types have rows of their own); only rows of the current process know their type.</param>
    /// <returns>The type's row, or <see langword="null"/>.</returns>
    public HeapTypeDelta? Find(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return Grown.FirstOrDefault(row => row.Type == type) ?? Shrunk.FirstOrDefault(row => row.Type == type);
    }

    /// <summary>Gets the row of a type by its full name, or <see langword="null"/> when it did not change.</summary>
    /// <param name="typeName">The full name in C# spelling, as <see cref="HeapTypeDelta.TypeName"/> gives it.</param>
    /// <returns>The first row of that name, or <see langword="null"/>.</returns>
    public HeapTypeDelta? Find(string typeName)
    {
        ArgumentNullException.ThrowIfNull(typeName);
        return Grown.FirstOrDefault(row => row.TypeName == typeName) ?? Shrunk.FirstOrDefault(row => row.TypeName == typeName);
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
