using SafeMem.Telemetry;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Telemetry;

public sealed class StripedCounterTests
{
    [Fact]
    public void Sum_AfterSingleThreadedUpdates_IsExact()
    {
        var counter = new StripedCounter();

        counter.Increment();
        counter.Increment();
        counter.Add(40);
        counter.Decrement();
        counter.Add(-5);

        Assert.Equal(36, counter.Sum());
    }

    [Fact]
    public void Sum_New_IsZero() => Assert.Equal(0, new StripedCounter().Sum());

    [Collection(StressCollection.Name)]
    public sealed class Concurrent
    {
        [Fact]
        public void Sum_AfterManyThreadsIncrement_IsExact()
        {
            const int threads = 8;
            const int perThread = 200_000;
            var counter = new StripedCounter();
            StressRunner.Run(threads, _ =>
            {
                for (int i = 0; i < perThread; i++)
                {
                    counter.Increment();
                    if ((i & 7) == 0)
                    {
                        // Mixed signs prove cells hold deltas, not just counts.
                        counter.Add(3);
                        counter.Add(-3);
                    }
                }
            });

            Assert.Equal((long)threads * perThread, counter.Sum());
        }
    }
}
