namespace SafeMem.Testing;

/// <summary>Configures a <see cref="LeakAssert"/> call.</summary>
/// <remarks>
/// Setters validate their own value. The assertion reads the options once, when it starts; changing them during a
/// call does not affect it. Not thread-safe: configure on one thread, then share read-only.
/// </remarks>
public sealed class LeakAssertOptions
{
    private int _maxCollections = 8;
    private int _maxPaths = 3;
    private string? _dumpDirectory;

    /// <summary>Gets or sets how many rounds of full, blocking, compacting collections (with finalizers run in between) to try before declaring an object alive.</summary>
    /// <value>From 1 to 100. Defaults to 8 (under half a second when the object stays alive, most of it short pauses that let finalizer-driven cleanup run).</value>
    public int MaxCollections
    {
        get => _maxCollections;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 100);
            _maxCollections = value;
        }
    }

    /// <summary>Gets or sets the most retention paths a failure message shows.</summary>
    /// <value>From 1 to 100. Defaults to 3.</value>
    public int MaxPaths
    {
        get => _maxPaths;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 100);
            _maxPaths = value;
        }
    }

    /// <summary>Gets or sets whether a failure dumps the process to explain what retains the object.</summary>
    /// <value>Defaults to <see langword="true"/>. When <see langword="false"/>, a failure says only that the object is alive (no dump, no second of cost).</value>
    public bool ExplainFailures { get; set; } = true;

    /// <summary>Gets or sets the directory the temporary dump is written to (it is deleted before the assertion returns).</summary>
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
