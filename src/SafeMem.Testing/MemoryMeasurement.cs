namespace SafeMem.Testing;

/// <summary>What one action cost in memory: the bytes it allocated and the bytes it left alive.</summary>
/// <remarks>Immutable, thread-safe. Returned by <see cref="MemoryProbe"/>.</remarks>
public readonly struct MemoryMeasurement
{
    internal MemoryMeasurement(long allocatedBytes, long retainedBytes)
    {
        AllocatedBytes = allocatedBytes;
        RetainedBytes = retainedBytes;
    }

    /// <summary>Gets the bytes the action allocated on the managed heap, garbage included.</summary>
    public long AllocatedBytes { get; }

    /// <summary>
    /// Gets how much the live managed heap grew across the action, measured after full collections before and after
    /// it: what the action left reachable. Negative when the action released more than it kept.
    /// </summary>
    public long RetainedBytes { get; }

    /// <inheritdoc/>
    public override string ToString() => $"allocated {AllocatedBytes:N0} B, retained {RetainedBytes:N0} B";
}
