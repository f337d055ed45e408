using SafeMem.Diagnostics.Heap;

namespace SafeMem.Testing;

/// <summary>
/// Thrown by <see cref="LeakAssert"/> when an object (or instances of a type) survived the collections it should not
/// have: the message names the type and the retention paths from a GC root, or says why no path is available.
/// </summary>
/// <remarks>
/// Immutable, thread-safe. The exception holds names and paths only, never the leaked object, so keeping it (a test
/// framework does) keeps nothing alive. It derives from <see cref="Exception"/>, not from a test framework's assertion
/// type, so xunit, NUnit and MSTest all report it as a failure with its message.
/// </remarks>
public sealed class LeakException : Exception
{
    /// <summary>Initializes a new instance with a message and no paths (for tools that create the exception themselves).</summary>
    public LeakException()
        : this("An object that should have been collected is still alive.")
    {
    }

    /// <summary>Initializes a new instance with a message and no paths.</summary>
    /// <param name="message">The message.</param>
    public LeakException(string message)
        : this(message, innerException: null)
    {
    }

    /// <summary>Initializes a new instance with a message, no paths and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The exception that made the explanation fail, if any.</param>
    public LeakException(string message, Exception? innerException)
        : base(message, innerException)
    {
        TypeName = string.Empty;
        RetentionPaths = [];
        InspectionNotes = [];
    }

    internal LeakException(string message, string typeName, int survivorCount, IReadOnlyList<RetentionPath> paths, string? pathUnavailableReason, IReadOnlyList<string> notes, Exception? innerException)
        : base(message, innerException)
    {
        TypeName = typeName;
        SurvivorCount = survivorCount;
        RetentionPaths = paths;
        PathUnavailableReason = pathUnavailableReason;
        InspectionNotes = notes;
    }

    /// <summary>Gets the full name of the retained object's type (or what the predicate matched).</summary>
    public string TypeName { get; }

    /// <summary>Gets how many objects survived that should not have (1 for <see cref="LeakAssert.Collected(Func{object})"/>).</summary>
    public int SurvivorCount { get; }

    /// <summary>Gets the retention paths found, shortest first; empty when none could be found or dumping was impossible.</summary>
    public IReadOnlyList<RetentionPath> RetentionPaths { get; }

    /// <summary>Gets why no retention path is given, or <see langword="null"/> when the dump was read.</summary>
    public string? PathUnavailableReason { get; }

    /// <summary>
    /// Gets, for a failure of <see cref="LeakAssert.NoGrowth(Action, NoGrowthOptions)"/>, the growth series behind it
    /// (every growing type with its counts per snapshot); <see langword="null"/> for the other assertions.
    /// </summary>
    public HeapGrowthReport? Growth { get; internal init; }

    /// <summary>Gets what could not be inspected in the dump (root kinds ClrMD failed on or may see incompletely).</summary>
    public IReadOnlyList<string> InspectionNotes { get; }
}
