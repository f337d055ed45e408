namespace SafeMem.Diagnostics.Heap;

/// <summary>Configures <see cref="HeapGrowthAnalyzer.Analyze"/>: the rule that tells growth from warm-up, and what the report carries.</summary>
/// <remarks>
/// Setters validate their own value. The analysis reads the options once. Not thread-safe: configure on one thread,
/// then share read-only.
/// </remarks>
public sealed class HeapGrowthOptions
{
    private double _decayTolerance = 0.5;
    private long _minimumRise = 1;
    private int _maxPathTypes = 3;
    private string _workUnit = "run";

    /// <summary>
    /// Gets or sets how far a stretch's rise per unit of work may fall below the largest rise per unit of an earlier
    /// stretch and still count as growth: warm-up decays (a cache filling up rises less and less, then not at all);
    /// growth keeps its pace.
    /// </summary>
    /// <value>From 0.01 to 1. Defaults to 0.5: each stretch must rise at least half as fast, per unit of work, as the fastest stretch before it.</value>
    public double DecayTolerance
    {
        get => _decayTolerance;
        set
        {
            if (!(value >= 0.01 && value <= 1))
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "The tolerance must be from 0.01 to 1.");
            }

            _decayTolerance = value;
        }
    }

    /// <summary>Gets or sets the least rise in instances a stretch must show to count as rising.</summary>
    /// <value>From 1. Defaults to 1.</value>
    public long MinimumRise
    {
        get => _minimumRise;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _minimumRise = value;
        }
    }

    /// <summary>Gets or sets for how many of the growing types (the fastest first) the report finds a retention path of a new instance.</summary>
    /// <value>From 0 to 20. Defaults to 3. Needs the last sample's snapshot open.</value>
    public int MaxPathTypes
    {
        get => _maxPathTypes;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 20);
            _maxPathTypes = value;
        }
    }

    /// <summary>Gets or sets the name of the unit of work, singular, for the report's text ("run", "second", "request").</summary>
    /// <value>Not empty. Defaults to "run".</value>
    public string WorkUnit
    {
        get => _workUnit;
        set
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(value);
            _workUnit = value;
        }
    }
}
