using System.Runtime.ExceptionServices;

namespace SafeMem.Tests.Infrastructure;

/// <summary>
/// Runs a body on several dedicated threads that start together (thread-pool threads would trickle in on a 2-core
/// machine and hide races), and rethrows the first failure of any thread.
/// </summary>
public static class StressRunner
{
    /// <summary>Runs <paramref name="body"/>(threadIndex) on <paramref name="threadCount"/> threads at once.</summary>
    public static void Run(int threadCount, Action<int> body, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        using var start = new Barrier(threadCount);
        ExceptionDispatchInfo? failure = null;
        var threads = new Thread[threadCount];
        for (int t = 0; t < threadCount; t++)
        {
            int index = t;
            threads[t] = new Thread(() =>
            {
                try
                {
                    start.SignalAndWait();
                    body(index);
                }
                catch (Exception ex)
                {
                    Interlocked.CompareExchange(ref failure, ExceptionDispatchInfo.Capture(ex), null);
                }
            })
            {
                IsBackground = true,
                Name = $"stress-{index}",
            };
            threads[t].Start();
        }

        TimeSpan limit = timeout ?? TimeSpan.FromSeconds(60);
        foreach (Thread thread in threads)
        {
            Assert.True(thread.Join(limit), $"A stress thread did not finish within {limit}: a deadlock or livelock.");
        }

        failure?.Throw();
    }

    /// <summary>Runs <paramref name="body"/> on each thread until <paramref name="duration"/> has passed.</summary>
    public static void RunFor(int threadCount, TimeSpan duration, Action<int, Random> body)
    {
        DateTime deadline = DateTime.UtcNow + duration;
        Run(threadCount, index =>
        {
            var random = new Random(unchecked((index + 1) * 7919));
            while (DateTime.UtcNow < deadline)
            {
                for (int i = 0; i < 256; i++)
                {
                    body(index, random);
                }
            }
        });
    }
}
