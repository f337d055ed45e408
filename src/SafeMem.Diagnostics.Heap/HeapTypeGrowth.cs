using System.Globalization;

namespace SafeMem.Diagnostics.Heap;

/// <summary>
/// How the instances of one type changed over a growth series: count and bytes at each sample, the rise per unit of
/// work, and whether it is growth (kept rising with the work) or warm-up (rose, then stopped or slowed).
/// </summary>
/// <remarks>Immutable, thread-safe; holds names, numbers and a path, never the instances.</remarks>
public sealed class HeapTypeGrowth
{
    internal HeapTypeGrowth(string typeName, Type? type, long[] counts, long[] bytes, double work, HeapGrowthConfidence confidence)
    {
        TypeName = typeName;
        Type = type;
        Counts = counts;
        Bytes = bytes;
        Confidence = confidence;
        CountPerWork = work > 0 ? (counts[^1] - counts[0]) / work : 0;
        BytesPerWork = work > 0 ? (bytes[^1] - bytes[0]) / work : 0;
    }

    /// <summary>Gets the full name of the type in C# spelling.</summary>
    public string TypeName { get; }

    /// <summary>Gets the runtime type when the samples are of the current process, else <see langword="null"/>.</summary>
    public Type? Type { get; }

    /// <summary>Gets the number of instances at each sample, in the series' order.</summary>
    public IReadOnlyList<long> Counts { get; }

    /// <summary>Gets the bytes of those instances at each sample.</summary>
    public IReadOnlyList<long> Bytes { get; }

    /// <summary>Gets the rise in instances from the first sample to the last.</summary>
    public long CountRise => Counts[^1] - Counts[0];

    /// <summary>Gets the rise in bytes from the first sample to the last.</summary>
    public long BytesRise => Bytes[^1] - Bytes[0];

    /// <summary>Gets the rise in instances per unit of work, from the first sample to the last.</summary>
    public double CountPerWork { get; }

    /// <summary>Gets the rise in bytes per unit of work, from the first sample to the last.</summary>
    public double BytesPerWork { get; }

    /// <summary>Gets whether the type grew with the work: its count rose over every stretch, and no stretch rose much slower per unit than an earlier one.</summary>
    public bool IsGrowth => Confidence != HeapGrowthConfidence.None;

    /// <summary>Gets how sure the growth verdict is (<see cref="HeapGrowthConfidence.None"/> when it is not growth).</summary>
    public HeapGrowthConfidence Confidence { get; internal set; }

    /// <summary>
    /// Gets the retention path of one of the instances that appeared during the series (the way of holding them whose
    /// count rose most), or <see langword="null"/> when none was looked for or found (no open snapshot, a type beyond
    /// <see cref="HeapGrowthOptions.MaxPathTypes"/>, no root ClrMD can see reaches them).
    /// </summary>
    public RetentionPath? NewInstancePath { get; internal set; }

    /// <inheritdoc/>
    public override string ToString()
        => string.Create(CultureInfo.InvariantCulture, $"{TypeName}: {CountPerWork:+0.###;-0.###;0} instances and {BytesPerWork:+#,0.#;-#,0.#;0} B per unit of work ({string.Join(" -> ", Counts)}){(IsGrowth ? $", growth ({Confidence} confidence)" : ", not growth")}");
}
