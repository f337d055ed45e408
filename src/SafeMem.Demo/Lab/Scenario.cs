namespace SafeMem.Demo.Lab;

/// <summary>
/// One classic leak and its SafeMem fix, as two <see cref="Variant"/>s that do the same work step by step.
/// </summary>
/// <remarks>
/// Adding a scenario is one class: derive from this, create the two variants in <see cref="Create"/>, name the
/// SafeMem instruments worth charting in <see cref="Charts"/>, and list the class in <c>Scenarios/ScenarioCatalog.cs</c>.
/// Block instances a variant creates must be named with <see cref="LabNames.Prefix"/> so the lab's telemetry
/// reader picks them up. The lab does the rest: each variant runs in its own process, memory is sampled after full
/// collections between steps, telemetry is read through a <c>MeterListener</c>, and the summary and the HTML report
/// show both variants side by side.
/// </remarks>
internal abstract class Scenario
{
    /// <summary>The <c>--scenario</c> value, lowercase: <c>cache</c>.</summary>
    public abstract string Key { get; }

    /// <summary>The block's name as the report titles it: <c>Caching</c>.</summary>
    public abstract string Title { get; }

    /// <summary>What the naive variant uses: <c>static Dictionary&lt;int, byte[]&gt;</c>.</summary>
    public abstract string NaiveLabel { get; }

    /// <summary>What the SafeMem variant uses: <c>BoundedCache (2 MB weight budget)</c>.</summary>
    public abstract string SafeMemLabel { get; }

    /// <summary>One or two sentences: what the simulated service does each step, and where the naive one leaks.</summary>
    public abstract string Story { get; }

    /// <summary>The small charts beside the memory chart (SafeMem instruments, with the naive counterpart where there is one).</summary>
    public abstract IReadOnlyList<CounterChart> Charts { get; }

    public abstract Variant Create(VariantKind kind);

    public string Label(VariantKind kind) => kind == VariantKind.Naive ? NaiveLabel : SafeMemLabel;
}
