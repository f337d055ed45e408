namespace SafeMem.Diagnostics.Heap.Internal;

/// <summary>
/// Serializes everything that dumps a process from this process. A dump suspends every thread of the target for
/// about a second; two snapshots from parallel callers dumping at once would each pay for both and hold two dumps in
/// memory, so the second waits for the first.
/// </summary>
internal static class InspectionGate
{
    private static readonly SemaphoreSlim s_gate = new(1, 1);

    public static Releaser Enter()
    {
        s_gate.Wait();
        return default;
    }

    internal readonly struct Releaser : IDisposable
    {
        public void Dispose() => s_gate.Release();
    }
}
