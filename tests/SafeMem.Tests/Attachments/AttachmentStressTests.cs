using SafeMem.Attachments;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Attachments;

[Collection(StressCollection.Name)]
public sealed class AttachmentStressTests
{
    [Fact]
    public void MixedOperations_ManyThreads_CountsMatchTheTableAndValuesAreNeverTorn()
    {
        var attachment = new Attachment<object, Pair>("stress");
        object[] owners = Enumerable.Range(0, 64).Select(_ => new object()).ToArray();

        StressRunner.RunFor(4, TimeSpan.FromSeconds(1.5), (_, random) =>
        {
            object owner = owners[random.Next(owners.Length)];
            long n = random.Next();
            switch (random.Next(4))
            {
                case 0:
                    attachment.Set(owner, new Pair(n, n));
                    break;
                case 1:
                    attachment.Remove(owner);
                    break;
                case 2:
                    Pair created = attachment.GetOrAdd(owner, static (_, v) => new Pair(v, v), n);
                    Assert.Equal(created.A, created.B);
                    break;
                default:
                    if (attachment.TryGet(owner, out Pair read))
                    {
                        // Set replaces the box instead of writing into it, so a 16-byte value is never seen half-written.
                        Assert.Equal(read.A, read.B);
                    }

                    break;
            }
        });

        // Every owner is alive, so nothing was reclaimed and the counters must agree exactly with the table.
        int attached = owners.Count(o => attachment.TryGet(o, out _));
        AttachmentStatistics statistics = attachment.GetStatistics();
        Assert.Equal(attached, statistics.Count);
        Assert.Equal(statistics.Additions - statistics.Removals, statistics.Count);
        Assert.Equal(0, statistics.Reclamations);
        GC.KeepAlive(owners);
    }

    [Fact]
    public void GetOrAdd_ManyThreadsSameOwner_AllReturnTheOneStoredValue()
    {
        for (int round = 0; round < 50; round++)
        {
            var attachment = new Attachment<object, object>("race");
            var owner = new object();
            var results = new object[4];

            StressRunner.Run(4, index => results[index] = attachment.GetOrAdd(owner, static _ => new object()));

            Assert.All(results, result => Assert.Same(results[0], result));
            Assert.Equal(1, attachment.GetStatistics().Additions);
        }
    }

    private readonly record struct Pair(long A, long B);
}
