using System.Runtime.InteropServices;
using SafeMem.Diagnostics;

namespace SafeMem.Tests.Diagnostics;

public sealed class WatchStripeTests
{
    [Fact]
    public void Index_WithCollidingHashes_MatchesASetModelThroughAddsAndForgets()
    {
        // Identity hashes forced into five values: every probe walks a long cluster, and every removal shifts it.
        var stripe = new WatchStripe();
        var random = new Random(20240611);
        var objects = new List<(object Target, int Hash, nint Handle)>();
        var model = new HashSet<object>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < 400; i++)
        {
            var target = new object();
            nint handle = GCHandle.ToIntPtr(GCHandle.Alloc(target, GCHandleType.Weak));
            int hash = i % 5;
            stripe.Add(handle, hash, stamp: i, watchedAt: 0, typeof(object), "model");
            objects.Add((target, hash, handle));
            model.Add(target);
            if (random.Next(3) == 0)
            {
                (object forgotten, int forgottenHash, nint forgottenHandle) = objects[random.Next(objects.Count)];
                stripe.Forget(forgottenHash, forgottenHandle);
                model.Remove(forgotten);
            }

            if (i % 50 == 0)
            {
                Assert.All(objects, o => Assert.Equal(model.Contains(o.Target), stripe.Contains(o.Hash, o.Target)));
            }
        }

        Assert.Equal(model.Count, stripe.IndexCount);
        Assert.All(objects, o => Assert.Equal(model.Contains(o.Target), stripe.Contains(o.Hash, o.Target)));
        Assert.Equal(400, stripe.PendingCount);

        // TryAdd: refused for an object the index knows, accepted (as a second record) for one it forgot.
        foreach ((object target, int hash, _) in objects.Take(40))
        {
            nint again = GCHandle.ToIntPtr(GCHandle.Alloc(target, GCHandleType.Weak));
            bool added = stripe.TryAdd(again, hash, target, stamp: 500, watchedAt: 0, typeof(object), "again");
            Assert.Equal(!model.Contains(target), added);
            if (added)
            {
                model.Add(target);
            }
            else
            {
                GCHandle.FromIntPtr(again).Free();
            }
        }

        Assert.Equal(model.Count, stripe.IndexCount);
        Assert.Equal(40 - (stripe.PendingCount - 400), stripe.Duplicates);

        stripe.Dispose(); // frees every pending handle
        Assert.Equal((0, 0), (stripe.PendingCount, stripe.IndexCount));
        GC.KeepAlive(objects);
    }

    [Fact]
    public void Add_StampsNeverGoBackwards()
    {
        var stripe = new WatchStripe();
        var target = new object();
        var late = new object();
        stripe.Add(GCHandle.ToIntPtr(GCHandle.Alloc(target, GCHandleType.Weak)), 1, stamp: 10, watchedAt: 0, typeof(object), "first");

        // Read earlier on another thread, added later: it takes the later stamp, so it is never judged early.
        stripe.Add(GCHandle.ToIntPtr(GCHandle.Alloc(late, GCHandleType.Weak)), 2, stamp: 5, watchedAt: 0, typeof(object), "second");
        var retained = new List<WatchRecord>();

        Assert.False(stripe.JudgeDue(dueBefore: 10, limit: 100, retained));
        Assert.Empty(retained);
        Assert.False(stripe.JudgeDue(dueBefore: 11, limit: 100, retained));
        Assert.Equal(["first", "second"], retained.Select(r => r.Description));

        foreach (WatchRecord record in retained)
        {
            stripe.Forget(record.Hash, record.Handle);
            GCHandle.FromIntPtr(record.Handle).Free();
        }

        GC.KeepAlive(target);
        GC.KeepAlive(late);
    }

    [Fact]
    public void JudgeDue_StopsAtTheLimitAndGrowsAndShrinksItsRing()
    {
        var stripe = new WatchStripe();
        var targets = new List<object>();
        for (int i = 0; i < 3_000; i++)
        {
            var target = new object();
            targets.Add(target);
            stripe.Add(GCHandle.ToIntPtr(GCHandle.Alloc(target, GCHandleType.Weak)), i, stamp: 1, watchedAt: 0, typeof(object), "many");
        }

        var retained = new List<WatchRecord>();
        Assert.True(stripe.JudgeDue(dueBefore: 2, limit: 1_000, retained));
        Assert.Equal((1_000, 2_000), (retained.Count, stripe.PendingCount));
        while (stripe.JudgeDue(dueBefore: 2, limit: 1_000, retained))
        {
        }

        Assert.Equal((3_000, 0, 3_000L), (retained.Count, stripe.PendingCount, stripe.Retained));
        for (int i = 0; i < targets.Count; i++)
        {
            Assert.True(stripe.Contains(i, targets[i]), $"object {i} left the index when it was retained");
        }

        foreach (WatchRecord record in retained)
        {
            stripe.Forget(record.Hash, record.Handle);
            GCHandle.FromIntPtr(record.Handle).Free();
        }

        Assert.Equal(0, stripe.IndexCount);
        GC.KeepAlive(targets);
    }
}
