namespace SafeMem.Cli.TestTarget;

/// <summary>
/// A live heap of a given size, for measuring what a snapshot costs (docs/production.md): half its bytes in small
/// objects (a record and its 32-byte payload, about 100 bytes a pair: millions of objects, as a service's heap has),
/// half in 64 KB buffers, all held by a static list. Stays flat once filled.
/// </summary>
internal static class Ballast
{
    // Ballast for the cost study: filled once to the size asked for and held for the life of the process, on purpose.
#pragma warning disable SM1001
    private static readonly List<object> s_held = [];
#pragma warning restore SM1001

    public static Action Fill(int megabytes)
    {
        long half = megabytes * 1024L * 1024 / 2;
        for (long bytes = 0; bytes < half; bytes += 64 * 1024)
        {
            s_held.Add(new byte[64 * 1024]);
        }

        for (long bytes = 0; bytes < half; bytes += 104)
        {
            s_held.Add(new Item(bytes, new byte[32]));
        }

        GC.Collect();
        return static () => { };
    }

    private sealed record Item(long Id, byte[] Payload);
}
