namespace SafeMem.Testing.Internal;

/// <summary>Full, blocking, compacting collections with finalizers run in between, repeated with a bounded effort.</summary>
internal static class FullCollection
{
    public static void Run()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
    }

    /// <summary>Collects until <paramref name="isCollected"/> holds or <paramref name="attempts"/> rounds are spent.</summary>
    /// <returns>The number of rounds run.</returns>
    public static int Until(Func<bool> isCollected, int attempts)
    {
        int round = 0;
        while (round < attempts && !isCollected())
        {
            Run();
            round++;
            if (round >= 3 && !isCollected())
            {
                // Finalizers and the work they schedule (a timer's cleanup, a thread-pool callback) get a moment
                // before the next round; the pause grows, so the whole effort stays bounded (under half a second).
                Thread.Sleep(10 * round);
            }
        }

        return round;
    }
}
