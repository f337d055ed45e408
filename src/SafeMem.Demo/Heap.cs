namespace SafeMem.Demo;

/// <summary>Brings the heap down to what is still referenced, so a measurement counts retained memory only.</summary>
internal static class Heap
{
    public static void Collect()
    {
        // Twice with finalizers in between: objects a finalizer releases die in the second pass.
        for (int i = 0; i < 2; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }

        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
    }
}
