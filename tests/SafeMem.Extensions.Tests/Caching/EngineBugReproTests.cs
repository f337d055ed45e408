using System.Reflection;
using SafeMem.Caching;

namespace SafeMem.Extensions.Tests.Caching;

/// <summary>
/// Engine bugs found while building the adapter and its benchmarks, kept as skipped tests so they are not lost. The
/// engine (src/SafeMem/Caching) belongs to another work stream; un-skip each test once its fix is merged.
/// </summary>
public sealed class EngineBugReproTests
{
    /// <summary>
    /// <c>ReadBuffer.TryAdd</c> reads a stripe's <c>Tail</c>, writes the slot, then writes <c>Tail + 1</c> back without
    /// a CAS. Two threads share a stripe whenever their managed thread ids are equal modulo the stripe count, so:
    /// thread X reads Tail = 5 and is preempted; thread Y fills the stripe to 32 and drains it (Head = 32); X resumes
    /// and writes Tail = 6. Now Tail &lt; Head, and <c>Drain</c>'s <c>for (i = head; i != tail; i++)</c> runs about
    /// 2^32 iterations (an Interlocked.Exchange each: tens of seconds) while holding the policy lock, stalling every
    /// writer. Seen in the cache-throughput mode: one 3-second 2-thread run of BoundedCache took over a minute, one
    /// worker spinning and the other blocked. This test puts a stripe in that post-race state and drains it.
    /// Suggested fix: in Drain, clamp the count to <c>Math.Clamp(tail - head, 0, StripeCapacity)</c> and resync Head;
    /// or publish Tail with a CompareExchange in TryAdd.
    /// </summary>
    [Fact(Skip = "engine bug: ReadBuffer tail can fall behind head under a stripe-sharing race; Drain then spins ~2^32 times under the policy lock")]
    public void ReadBufferDrain_TailBehindHeadAfterRace_FinishesPromptly()
    {
        var buffer = new ReadBuffer<object>();
        for (int i = 0; i < ReadBuffer<object>.StripeCapacity; i++)
        {
            Assert.True(buffer.TryAdd(new object()));
        }

        buffer.Drain(0, static (_, _) => { });

        // The state the race leaves behind: Head advanced by a drain, then a stale TryAdd moved Tail back.
        object stripe = FindStripeWithHead(buffer, ReadBuffer<object>.StripeCapacity);
        stripe.GetType().GetField("Tail")!.SetValue(stripe, 6);

        var drain = new Thread(() => buffer.Drain(0, static (_, _) => { })) { IsBackground = true };
        drain.Start();

        // A deadlock net, not a timing assertion: a correct drain of at most 32 slots takes microseconds.
        Assert.True(drain.Join(TimeSpan.FromSeconds(10)), "Drain did not finish within 10 s: it is walking ~2^32 slots.");
    }

    private static object FindStripeWithHead(ReadBuffer<object> buffer, int head)
    {
        var stripes = (Array)typeof(ReadBuffer<object>).GetField("_stripes", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(buffer)!;
        foreach (object stripe in stripes)
        {
            if ((int)stripe.GetType().GetField("Head")!.GetValue(stripe)! == head)
            {
                return stripe;
            }
        }

        throw new InvalidOperationException("No drained stripe found.");
    }
}
