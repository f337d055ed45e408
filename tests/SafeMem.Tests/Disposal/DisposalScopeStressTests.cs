using SafeMem.Disposal;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Disposal;

[Collection(StressCollection.Name)]
public sealed class DisposalScopeStressTests
{
    [Fact]
    public void ConcurrentDispose_DisposesEveryItemExactlyOnce()
    {
        for (int round = 0; round < 50; round++)
        {
            var scope = new DisposalScope("stress-dispose");
            var items = Enumerable.Range(0, 200).Select(_ => scope.Add(new CountingDisposable())).ToList();

            StressRunner.Run(4, _ => scope.Dispose());

            Assert.All(items, i => Assert.Equal(1, i.Count));
            Assert.Equal(0, scope.Count);
        }
    }

    [Fact]
    public void ConcurrentAddRemoveAndDispose_EveryItemDisposedOnceOrHandedBack()
    {
        // Invariant: every item added is either handed back by Remove (never disposed) or disposed exactly once, by the
        // scope's Dispose or, when added after it, at once by Add.
        for (int round = 0; round < 20; round++)
        {
            var scope = new DisposalScope("stress-mixed");
            var added = new System.Collections.Concurrent.ConcurrentBag<CountingDisposable>();
            var removed = new System.Collections.Concurrent.ConcurrentBag<CountingDisposable>();

            StressRunner.Run(4, thread =>
            {
                if (thread == 0)
                {
                    Thread.SpinWait(2000);
                    scope.Dispose();
                    return;
                }

                for (int i = 0; i < 500; i++)
                {
                    var item = scope.Add(new CountingDisposable());
                    added.Add(item);
                    if (i % 3 == 0 && scope.Remove(item))
                    {
                        removed.Add(item);
                    }
                }
            });

            scope.Dispose();
            var handedBack = removed.ToHashSet();
            Assert.All(added, item => Assert.Equal(handedBack.Contains(item) ? 0 : 1, item.Count));
            Assert.Equal(0, scope.Count);
        }
    }

    [Fact]
    public void ConcurrentChildren_ParentDisposedWhileChildrenEnd_EachChildItemDisposedOnce()
    {
        var parent = new DisposalScope("stress-parent");
        var items = new System.Collections.Concurrent.ConcurrentBag<CountingDisposable>();

        StressRunner.Run(4, thread =>
        {
            for (int i = 0; i < 300; i++)
            {
                DisposalScope child;
                try
                {
                    child = parent.CreateChild("stress-child");
                }
                catch (ObjectDisposedException)
                {
                    return;
                }

                items.Add(child.Add(new CountingDisposable()));
                if (i % 2 == 0)
                {
                    child.Dispose();
                }

                if (thread == 0 && i == 150)
                {
                    parent.Dispose();
                }
            }
        });

        parent.Dispose();
        Assert.All(items, item => Assert.Equal(1, item.Count));
        Assert.Equal(0, parent.Count);
    }

    private sealed class CountingDisposable : IDisposable
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public void Dispose() => Interlocked.Increment(ref _count);
    }
}
