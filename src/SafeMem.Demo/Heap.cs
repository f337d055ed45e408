using System.Runtime.CompilerServices;

namespace SafeMem.Demo;

/// <summary>Measures what a scenario leaves reachable after a full collection.</summary>
internal static class Heap
{
    public static void Collect()
    {
        for (int i = 0; i < 2; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }

        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
    }

    public static long LiveBytes()
    {
        Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    public static int CountAlive(IEnumerable<WeakReference> references)
    {
        Collect();
        return references.Count(r => r.IsAlive);
    }

    public static string Megabytes(long bytes) => $"{bytes / (1024.0 * 1024.0),7:F1} MB";

    /// <summary>Runs <paramref name="work"/> in its own frame so its locals are dead when it returns.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static T Isolated<T>(Func<T> work) => work();
}
