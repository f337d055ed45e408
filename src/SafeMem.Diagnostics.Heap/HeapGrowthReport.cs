using System.Globalization;
using System.Text;

namespace SafeMem.Diagnostics.Heap;

/// <summary>
/// What a growth series shows: the types that grew with the work (growth), and those that rose but stopped or slowed
/// (warm-up), each with counts and bytes per sample and the rise per unit of work. Built by
/// <see cref="HeapGrowthAnalyzer.Analyze"/>.
/// </summary>
/// <remarks>Immutable, thread-safe; holds names, numbers and paths only.</remarks>
public sealed class HeapGrowthReport
{
    internal HeapGrowthReport(double[] work, string workUnit, List<HeapTypeGrowth> growing, List<HeapTypeGrowth> warmUp, IReadOnlyList<string> notes)
    {
        Work = work;
        WorkUnit = workUnit;
        Growing = growing;
        WarmUp = warmUp;
        InspectionNotes = notes;
    }

    /// <summary>Gets the work done at each sample (cumulative, in <see cref="WorkUnit"/>s).</summary>
    public IReadOnlyList<double> Work { get; }

    /// <summary>Gets the name of the unit of work ("run", "second").</summary>
    public string WorkUnit { get; }

    /// <summary>Gets the number of stretches of work between the samples (one less than the samples).</summary>
    public int Stretches => Work.Count - 1;

    /// <summary>Gets the types that grew with the work, the most instances per unit first.</summary>
    public IReadOnlyList<HeapTypeGrowth> Growing { get; }

    /// <summary>Gets the types whose count rose overall but not with the work (warm-up: filled, then stopped or slowed), the largest rise first.</summary>
    public IReadOnlyList<HeapTypeGrowth> WarmUp { get; }

    /// <summary>Gets whether any type grew with the work.</summary>
    public bool HasGrowth => Growing.Count > 0;

    /// <summary>Gets how sure the verdict of growth is: that of the surest growing type, <see cref="HeapGrowthConfidence.None"/> without growth.</summary>
    public HeapGrowthConfidence Confidence => Growing.Count == 0 ? HeapGrowthConfidence.None : Growing.Max(g => g.Confidence);

    /// <summary>Gets what could not be inspected while finding paths (see <see cref="HeapSnapshot.InspectionNotes"/>).</summary>
    public IReadOnlyList<string> InspectionNotes { get; }

    /// <summary>Finds a type's entry in <see cref="Growing"/> or <see cref="WarmUp"/> by full name.</summary>
    /// <param name="typeName">The full name in C# spelling.</param>
    /// <returns>The entry, or <see langword="null"/> when the type did not rise.</returns>
    public HeapTypeGrowth? Find(string typeName)
    {
        ArgumentNullException.ThrowIfNull(typeName);
        return Growing.FirstOrDefault(g => g.TypeName == typeName) ?? WarmUp.FirstOrDefault(g => g.TypeName == typeName);
    }

    /// <summary>Renders the growing types (at most 10), then the paths of their new instances.</summary>
    /// <returns>The report as text.</returns>
    public override string ToString() => ToString(10);

    /// <summary>Renders the growing types as a table (instances and bytes per unit of work, counts per sample), then the paths of their new instances.</summary>
    /// <param name="maxTypes">The most types to list. Greater than zero.</param>
    /// <returns>The report as text.</returns>
    public string ToString(int maxTypes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxTypes);
        CultureInfo culture = CultureInfo.InvariantCulture;
        var builder = new StringBuilder();
        string work = string.Join(", ", Work.Select(w => w.ToString("#,0.##", culture)));
        if (Growing.Count == 0)
        {
            builder.Append(culture, $"No type grew with the work over {Stretches} stretch{(Stretches == 1 ? string.Empty : "es")} ({WorkUnit}s done at each snapshot: {work}).");
            return builder.ToString();
        }

        builder.Append(culture, $"{Growing.Count} type{(Growing.Count == 1 ? string.Empty : "s")} grew with the work ({WorkUnit}s done at each snapshot: {work}; {Confidence} confidence):\n");
        builder.Append(culture, $"{"Instances/" + WorkUnit,16} {"Bytes/" + WorkUnit,14} {"Instances",12} {"Bytes",14}  Type (instances at each snapshot)\n");
        foreach (HeapTypeGrowth type in Growing.Take(maxTypes))
        {
            builder.Append(culture, $"{type.CountPerWork,16:+#,0.###;-#,0.###;0} {type.BytesPerWork,14:+#,0.#;-#,0.#;0} {type.CountRise,12:+#,0;-#,0;0} {type.BytesRise,14:+#,0;-#,0;0}  {type.TypeName} ({string.Join(" -> ", type.Counts.Select(c => c.ToString("#,0", culture)))})\n");
        }

        if (Growing.Count > maxTypes)
        {
            builder.Append(culture, $"({Growing.Count - maxTypes} more growing types)\n");
        }

        foreach (HeapTypeGrowth type in Growing.Take(maxTypes).Where(t => t.NewInstancePath is not null))
        {
            builder.Append(culture, $"A new {type.TypeName} is held by:\n  ")
                .Append(type.NewInstancePath!.ToString().Replace("\n", "\n  ", StringComparison.Ordinal))
                .Append('\n');
        }

        return builder.ToString().TrimEnd('\n');
    }
}
