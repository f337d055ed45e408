namespace SafeMem.Testing.Internal;

/// <summary>The process could not dump or read itself; the message completes "the retention path is unavailable: ...".</summary>
internal sealed class HeapDumpUnavailableException : Exception
{
    public HeapDumpUnavailableException(string message)
        : base(message)
    {
    }

    public HeapDumpUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
