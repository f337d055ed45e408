namespace SafeMem.Testing.Tests;

/// <summary>
/// The type and predicate overloads count instances in two dumps (before and after the action), so they use types
/// no other test creates; each test costs two dumps, so there are few of them.
/// </summary>
public sealed class LeakAssertTypeTests
{
    private static readonly List<object> s_kept = [];

    [Fact]
    public void CollectedOfType_ActionKeepsInstances_FailsWithCountAndPath()
    {
        try
        {
            LeakException failure = Assert.Throws<LeakException>(() => LeakAssert.Collected<TypeLeakProbe>(() =>
            {
                s_kept.Add(new TypeLeakProbe());
                s_kept.Add(new TypeLeakProbe());
                _ = new TypeLeakProbe();
            }));

            Assert.Equal(2, failure.SurvivorCount);
            Assert.Equal("SafeMem.Testing.Tests.LeakAssertTypeTests.TypeLeakProbe", failure.TypeName);
            Assert.StartsWith("2 more instances of SafeMem.Testing.Tests.LeakAssertTypeTests.TypeLeakProbe alive after the action than before it (0 before, 2 after).", failure.Message);
            Assert.NotEmpty(failure.RetentionPaths);
            Assert.All(failure.RetentionPaths, path =>
            {
                Assert.Equal("static field SafeMem.Testing.Tests.LeakAssertTypeTests.s_kept", path.Root);
                Assert.Equal("LeakAssertTypeTests.TypeLeakProbe", path.Target);
            });
        }
        finally
        {
            s_kept.Clear();
        }
    }

    [Fact]
    public void CollectedMatching_ActionKeepsNothingNew_Passes()
    {
        // One matching object exists before and stays: the action adds none, so nothing accumulates.
        s_kept.Add(new PredicateProbe(1));
        try
        {
            LeakAssert.Collected(
                () =>
                {
                    for (int i = 0; i < 100; i++)
                    {
                        _ = new PredicateProbe(i).GetHashCode();
                    }
                },
                o => o.Is<PredicateProbe>());
        }
        finally
        {
            s_kept.Clear();
        }
    }

    [Fact]
    public void CollectedOfType_ActionThrows_PropagatesTheException()
    {
        var thrown = new InvalidOperationException("action failed");

        Assert.Same(thrown, Assert.Throws<InvalidOperationException>(() => LeakAssert.Collected<TypeLeakProbe>(() => throw thrown)));
    }

    private sealed class TypeLeakProbe
    {
    }

    private sealed class PredicateProbe(int id)
    {
        public int Id { get; } = id;
    }
}
