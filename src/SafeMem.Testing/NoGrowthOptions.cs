namespace SafeMem.Testing;

/// <summary>Configures <see cref="LeakAssert.NoGrowth(Action, NoGrowthOptions)"/>: how many runs, and how the heap is sampled.</summary>
/// <remarks>
/// Setters validate their own value. The assertion reads the options once, when it starts. Not thread-safe: configure
/// on one thread, then share read-only.
/// </remarks>
public sealed class NoGrowthOptions
{
    private int _iterations = 50;
    private int _warmupIterations = 50;
    private int _stretches = 2;
    private int _maxPaths = 3;
    private string? _dumpDirectory;

    /// <summary>
    /// Gets or sets how many times the operation runs between the first two heap snapshots (the first stretch); the
    /// k-th stretch runs it k times as often (50, then 100 by default), so that only growth in proportion to the runs
    /// counts.
    /// </summary>
    /// <value>
    /// From 1 to 1,000,000. Defaults to 50. A leak is seen when it leaves at least one instance in the first stretch:
    /// one object every 10 runs needs at least 10 (the default finds it); one every 1,000 runs needs 1,000.
    /// </value>
    public int Iterations
    {
        get => _iterations;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 1_000_000);
            _iterations = value;
        }
    }

    /// <summary>Gets or sets how many times the operation runs before the first snapshot (caches, pools, lazily created singletons and JIT data fill then).</summary>
    /// <value>From 0 to 1,000,000. Defaults to 50.</value>
    public int WarmupIterations
    {
        get => _warmupIterations;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 1_000_000);
            _warmupIterations = value;
        }
    }

    /// <summary>Gets or sets how many stretches of runs are compared (one snapshot before them, one after each; stretch k runs k × <see cref="Iterations"/> times).</summary>
    /// <value>
    /// From 1 to 10. Defaults to 2 (three snapshots, 150 runs after the warm-up): a type fails the assertion only when
    /// it gained instances over every stretch in proportion to its runs. One stretch cannot tell growth from warm-up
    /// still under way; more stretches make the verdict surer and cost a snapshot each (about a second on a test's
    /// heap) and more runs.
    /// </value>
    public int Stretches
    {
        get => _stretches;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 10);
            _stretches = value;
        }
    }

    /// <summary>Gets or sets for how many of the growing types (the most instances per run first) a failure shows the retention path of a new instance.</summary>
    /// <value>From 0 to 20. Defaults to 3.</value>
    public int MaxPaths
    {
        get => _maxPaths;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 20);
            _maxPaths = value;
        }
    }

    /// <summary>Gets or sets the directory the temporary dumps are written to (each is deleted before the assertion returns).</summary>
    /// <value>An existing directory, or <see langword="null"/> for the system's temporary directory. Defaults to <see langword="null"/>. Not empty.</value>
    public string? DumpDirectory
    {
        get => _dumpDirectory;
        set
        {
            if (value is not null)
            {
                ArgumentException.ThrowIfNullOrWhiteSpace(value);
            }

            _dumpDirectory = value;
        }
    }
}
