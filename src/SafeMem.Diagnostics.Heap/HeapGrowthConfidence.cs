namespace SafeMem.Diagnostics.Heap;

/// <summary>How sure a growth verdict is: how many successive stretches of work the rise held over.</summary>
/// <remarks>Plain data; thread-safe.</remarks>
public enum HeapGrowthConfidence
{
    /// <summary>Not growth.</summary>
    None = 0,

    /// <summary>Rose over the one stretch there was (two samples): growth, or warm-up not yet over.</summary>
    Low = 1,

    /// <summary>Rose in proportion over two successive stretches (three samples).</summary>
    Medium = 2,

    /// <summary>Rose in proportion over three or more successive stretches (four samples or more).</summary>
    High = 3,
}
