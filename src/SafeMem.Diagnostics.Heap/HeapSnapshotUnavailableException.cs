namespace SafeMem.Diagnostics.Heap;

/// <summary>
/// Thrown when a heap snapshot cannot be taken or read: the process could not be dumped (diagnostics turned off with
/// <c>DOTNET_EnableDiagnostics=0</c>, no such process, no permission, a missing directory) or ClrMD could not read
/// the dump. <see cref="Reason"/> says why, in words that complete "the heap is unavailable: ...".
/// </summary>
/// <remarks>
/// Immutable, thread-safe. It derives from <see cref="InvalidOperationException"/>: the call was valid, the
/// environment could not serve it. No dump is left behind when it is thrown.
/// </remarks>
public sealed class HeapSnapshotUnavailableException : InvalidOperationException
{
    /// <summary>Initializes a new instance with a default message.</summary>
    public HeapSnapshotUnavailableException()
        : this("the process could not be dumped")
    {
    }

    /// <summary>Initializes a new instance with the reason the heap is unavailable.</summary>
    /// <param name="reason">Why, e.g. "the dump directory '/x' does not exist".</param>
    public HeapSnapshotUnavailableException(string reason)
        : this(reason, innerException: null)
    {
    }

    /// <summary>Initializes a new instance with the reason the heap is unavailable and the exception behind it.</summary>
    /// <param name="reason">Why, e.g. "the dump directory '/x' does not exist".</param>
    /// <param name="innerException">The exception that made dumping or reading fail, if any.</param>
    public HeapSnapshotUnavailableException(string reason, Exception? innerException)
        : base($"A heap snapshot is unavailable: {reason}.", innerException)
    {
        Reason = reason;
    }

    /// <summary>Gets why the heap is unavailable, without the leading sentence of <see cref="Exception.Message"/>.</summary>
    public string Reason { get; }
}
