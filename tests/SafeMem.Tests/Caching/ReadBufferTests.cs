using SafeMem.Caching;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Caching;

[Collection(StressCollection.Name)]
public sealed class ReadBufferTests
{
    [Fact]
    public void Add_SingleThread_DrainsInRecordingOrder()
    {
        var buffer = new ReadBuffer();
        object[] items = [new(), new(), new()];

        foreach (object item in new[] { items[2], items[0], items[1], items[0] })
        {
            Assert.True(buffer.Add(item));
        }

        var drained = new List<object>();
        buffer.Drain(drained, static (list, item) => list.Add(item));

        Assert.Equal([items[2], items[0], items[1], items[0]], drained);
        Assert.Equal(4, buffer.Hits);
    }

    [Fact]
    public void Add_HitThatFillsTheStripe_ReturnsFalseSoTheCallerDrains()
    {
        var buffer = new ReadBuffer();
        var item = new object();
        for (int i = 0; i < ReadBuffer.StripeCapacity - 1; i++)
        {
            Assert.True(buffer.Add(item));
        }

        Assert.False(buffer.Add(item));

        int drained = 0;
        buffer.Drain(0, (_, _) => drained++);
        Assert.Equal(ReadBuffer.StripeCapacity, drained);
        Assert.True(buffer.Add(item));
    }

    [Fact]
    public void Add_StripeStaysFull_CountsEveryHitAndAsksForADrainOnlyNowAndThen()
    {
        var buffer = new ReadBuffer();
        var item = new object();
        for (int i = 0; i < ReadBuffer.StripeCapacity; i++)
        {
            buffer.Add(item);
        }

        int drainRequests = 0;
        for (int i = 0; i < 32; i++)
        {
            drainRequests += buffer.Add(item) ? 0 : 1;
        }

        Assert.Equal(ReadBuffer.StripeCapacity + 32, buffer.Hits);
        Assert.InRange(drainRequests, 1, 4);

        int drained = 0;
        buffer.Drain(0, (_, _) => drained++);
        Assert.Equal(ReadBuffer.StripeCapacity, drained);
    }

    [Fact]
    public void Add_AlreadyFirstWithNothingPending_CountsWithoutRecording()
    {
        var buffer = new ReadBuffer();
        var item = new object();

        Assert.True(buffer.Add(item, alreadyFirst: true));
        var drained = new List<object>();
        buffer.Drain(drained, static (list, i) => list.Add(i));

        Assert.Empty(drained);
        Assert.Equal(1, buffer.Hits);
    }

    [Fact]
    public void Add_AlreadyFirstWithReadsPending_StillRecordsToKeepOrder()
    {
        var buffer = new ReadBuffer();
        object first = new(), second = new();
        buffer.Add(second);

        buffer.Add(first, alreadyFirst: true);
        var drained = new List<object>();
        buffer.Drain(drained, static (list, i) => list.Add(i));

        Assert.Equal([second, first], drained);
    }

    [Fact]
    public void Drain_Twice_SecondDrainsNothing()
    {
        var buffer = new ReadBuffer();
        buffer.Add(new object());
        buffer.Drain(0, static (_, _) => { });

        int drained = 0;
        buffer.Drain(0, (_, _) => drained++);

        Assert.Equal(0, drained);
    }

    [Fact]
    public void Clear_ForgetsItemsButKeepsCount()
    {
        var buffer = new ReadBuffer();
        WeakReference weak = AddTemporary(buffer);

        buffer.Clear();

        GcAssert.Collected(weak);
        Assert.Equal(1, buffer.Hits);
        int drained = 0;
        buffer.Drain(0, (_, _) => drained++);
        Assert.Equal(0, drained);
    }

    [Fact]
    public void Add_NotDrained_Control_KeepsItemAlive()
    {
        var buffer = new ReadBuffer();
        WeakReference weak = AddTemporary(buffer);

        GcAssert.Alive(weak);
        GC.KeepAlive(buffer);
    }

    [Fact]
    public void Add_MoreThreadsThanStripes_CountIsExact()
    {
        var buffer = new ReadBuffer();
        const int Threads = 80;
        const int PerThread = 2_000;
        var item = new object();

        StressRunner.Run(Threads, _ =>
        {
            for (int i = 0; i < PerThread; i++)
            {
                if (!buffer.Add(item))
                {
                    lock (buffer)
                    {
                        buffer.Drain(0, static (_, _) => { });
                    }
                }
            }
        });

        Assert.Equal(Threads * PerThread, buffer.Hits);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference AddTemporary(ReadBuffer buffer)
    {
        var item = new object();
        buffer.Add(item);
        return new WeakReference(item);
    }
}
