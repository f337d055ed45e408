namespace SafeMem.Diagnostics.Heap.Tests;

/// <summary>A linked list's repeated hop is said once, with its count, and grouping ignores the count.</summary>
public sealed class RetentionPathRepeatTests
{
    private static ChainNode? s_head;

    [Fact]
    public void FindRetentionPaths_ObjectAtTheEndOfALinkedList_SaysTheRepeatedHopOnce()
    {
        s_head = new ChainNode(new ChainNode(new ChainNode(new ChainNode(null, new ChainEnd()), null), null), null);
        try
        {
            using HeapSnapshot snapshot = HeapSnapshot.Take();

            RetentionPath path = Assert.Single(snapshot.FindRetentionPaths(o => o.Type == typeof(ChainEnd), maxPaths: 1));

            Assert.Equal("static field SafeMem.Diagnostics.Heap.Tests.RetentionPathRepeatTests.s_head", path.Root);
            Assert.Equal(["RetentionPathRepeatTests.ChainNode.Next (3 times)", "RetentionPathRepeatTests.ChainNode.End"], path.Hops);
            Assert.Contains("ChainNode.Next (repeated)", path.Signature, StringComparison.Ordinal);
        }
        finally
        {
            s_head = null;
        }
    }

    public sealed record ChainNode(ChainNode? Next, ChainEnd? End);

    public sealed class ChainEnd
    {
    }
}
