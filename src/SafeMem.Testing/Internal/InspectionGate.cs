namespace SafeMem.Testing.Internal;

/// <summary>
/// Serializes everything that dumps the process. A dump suspends every thread of the process for about a second;
/// two assertions from parallel tests dumping at once would each pay for both and hold two dumps in memory, so the
/// second waits for the first.
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
