using FsCheck;
using FsCheck.Fluent;
using SafeMem.Caching;

namespace SafeMem.Tests.Caching;

/// <summary>
/// The model test as a property (FsCheck): random bounds and expiries, tiny ones included, with random operation
/// sequences, each compared step by step with <see cref="ReferenceLru{TKey, TValue}"/>. Where the seeded model tests run
/// long sequences on a few fixed configurations, this runs many short ones on configurations it draws, and when one
/// fails FsCheck shrinks it to a minimal counterexample (fewest operations, smallest bounds) before reporting it.
/// </summary>
public sealed class BoundedCacheModelPropertyTests
{
    private const int KeySpace = 8;

    public enum Kind
    {
        TryGet,
        Set,
        GetOrAdd,
        TryRemove,
        Clear,
        Advance,
    }

    [Fact]
    public void RandomSetupsAndOperations_MatchReferenceLru()
    {
        Arbitrary<(Setup, Operation[])> cases = Arb.Zip(Arb.From(Setups(), ShrinkSetup), Arb.Array(Arb.From(Operations(), ShrinkOperation)));
        Prop.ForAll(cases, @case => Run(@case.Item1, @case.Item2)).Check(Config.QuickThrowOnFailure.WithMaxTest(300));
    }

    private static bool Run(Setup setup, Operation[] operations)
    {
        var clock = new FakeTimeProvider();
        var reference = new ReferenceLru<int, Item>(setup.MaximumCount, setup.MaximumWeight, setup.AfterWrite, setup.AfterAccess, clock.GetUtcNow);
        using var cache = new BoundedCache<int, Item>(new BoundedCacheOptions<int, Item>
        {
            MaximumCount = setup.MaximumCount,
            MaximumWeight = setup.MaximumWeight,
            ExpireAfterWrite = setup.AfterWrite,
            ExpireAfterAccess = setup.AfterAccess,
            TimeProvider = clock,
            Weigher = setup.MaximumWeight is null ? null : static (_, item) => item.Weight,
        });
        var removals = new List<(int Key, int Version, string Reason)>();
        cache.EntryRemoved += (_, e) => removals.Add((e.Key, e.Value.Version, e.Reason.ToString()));

        for (int step = 0; step < operations.Length; step++)
        {
            Operation operation = operations[step];
            var item = new Item(operation.Key, step, setup.MaximumWeight is null ? 1 : operation.Weight);
            int removalsBefore = reference.Removals.Count;
            removals.Clear();
            switch (operation.Kind)
            {
                case Kind.TryGet:
                    bool expectedFound = reference.TryGet(operation.Key, out Item expected);
                    bool found = cache.TryGet(operation.Key, out Item? value);
                    Assert.True(expectedFound == found, $"step {step}: found {found}, expected {expectedFound}");
                    Assert.Same(expectedFound ? expected : null, found ? value : null);
                    break;
                case Kind.Set:
                    reference.Set(operation.Key, item, item.Weight);
                    cache.Set(operation.Key, item);
                    break;
                case Kind.GetOrAdd:
                    if (!reference.TryGet(operation.Key, out Item current))
                    {
                        reference.Set(operation.Key, item, item.Weight);
                        current = item;
                    }

                    Assert.Same(current, cache.GetOrAdd(operation.Key, static (_, created) => created, item));
                    break;
                case Kind.TryRemove:
                    Assert.Equal(reference.TryRemove(operation.Key), cache.TryRemove(operation.Key));
                    break;
                case Kind.Clear:
                    reference.Clear();
                    cache.Clear();
                    break;
                case Kind.Advance:
                    clock.Advance(TimeSpan.FromSeconds(operation.Seconds));
                    break;
            }

            Assert.True(reference.Count == cache.Count, $"step {step}: Count {cache.Count}, expected {reference.Count}");
            Assert.True(reference.Weight == cache.Weight, $"step {step}: Weight {cache.Weight}, expected {reference.Weight}");
            var expectedRemovals = reference.Removals.Skip(removalsBefore).Select(r => (r.Key, r.Value.Version, r.Reason)).Order().ToList();
            Assert.True(
                expectedRemovals.SequenceEqual(removals.Order()),
                $"step {step}: removals [{string.Join(", ", removals)}], expected [{string.Join(", ", expectedRemovals)}]");
            if (setup.AfterWrite is null && setup.AfterAccess is null)
            {
                Assert.Equal(reference.KeysByRecency, cache.Select(pair => pair.Key));
            }
        }

        CacheStatistics statistics = cache.GetStatistics();
        Assert.Equal(reference.Hits, statistics.Hits);
        Assert.Equal(reference.Misses, statistics.Misses);
        return true;
    }

    // Bounds as small as one entry or a weight of one; an expiry on about half the setups.
    private static Gen<Setup> Setups() =>
        from count in Gen.Choose(0, 5)
        from weight in Gen.Choose(0, 12)
        from afterWrite in Gen.Choose(-10, 10)
        from afterAccess in Gen.Choose(-10, 10)
        select new Setup(
            count > 0 || weight == 0 ? Math.Max(count, 1) : (int?)null,
            weight > 0 ? weight : (long?)null,
            afterWrite > 0 ? TimeSpan.FromSeconds(afterWrite) : null,
            afterAccess > 0 ? TimeSpan.FromSeconds(afterAccess) : null);

    // Weights from 0 to a little over the largest weight bound, so that some entries are rejected.
    private static Gen<Operation> Operations() =>
        from kind in Gen.Frequency(
            (30, Gen.Constant(Kind.TryGet)),
            (25, Gen.Constant(Kind.Set)),
            (20, Gen.Constant(Kind.GetOrAdd)),
            (12, Gen.Constant(Kind.TryRemove)),
            (1, Gen.Constant(Kind.Clear)),
            (12, Gen.Constant(Kind.Advance)))
        from key in Gen.Choose(0, KeySpace - 1)
        from weight in Gen.Choose(0, 14)
        from seconds in Gen.Choose(0, 8)
        select new Operation(kind, key, weight, seconds);

    // Toward fewer features: drop an expiry, drop one of two bounds, lower a bound.
    private static IEnumerable<Setup> ShrinkSetup(Setup setup)
    {
        if (setup.AfterWrite is not null)
        {
            yield return setup with { AfterWrite = null };
        }

        if (setup.AfterAccess is not null)
        {
            yield return setup with { AfterAccess = null };
        }

        if (setup.MaximumCount is not null && setup.MaximumWeight is not null)
        {
            yield return setup with { MaximumCount = null };
            yield return setup with { MaximumWeight = null };
        }

        if (setup.MaximumCount > 1)
        {
            yield return setup with { MaximumCount = setup.MaximumCount - 1 };
        }

        if (setup.MaximumWeight > 1)
        {
            yield return setup with { MaximumWeight = setup.MaximumWeight - 1 };
        }
    }

    // Toward the plainest operation: key 0, weight 1, the smallest clock step.
    private static IEnumerable<Operation> ShrinkOperation(Operation operation)
    {
        if (operation.Key != 0)
        {
            yield return operation with { Key = 0 };
        }

        if (operation.Weight > 1)
        {
            yield return operation with { Weight = 1 };
        }

        if (operation.Kind == Kind.Advance && operation.Seconds > 1)
        {
            yield return operation with { Seconds = operation.Seconds / 2 };
        }
    }

    public sealed record Setup(int? MaximumCount, long? MaximumWeight, TimeSpan? AfterWrite, TimeSpan? AfterAccess)
    {
        public override string ToString()
            => $"count {MaximumCount?.ToString() ?? "-"}, weight {MaximumWeight?.ToString() ?? "-"}, "
                + $"after write {AfterWrite?.TotalSeconds.ToString() ?? "-"} s, after access {AfterAccess?.TotalSeconds.ToString() ?? "-"} s";
    }

    public sealed record Operation(Kind Kind, int Key, int Weight, int Seconds)
    {
        public override string ToString() => Kind switch
        {
            Kind.Set or Kind.GetOrAdd => $"{Kind}({Key}, w={Weight})",
            Kind.Advance => $"Advance({Seconds} s)",
            Kind.Clear => "Clear()",
            _ => $"{Kind}({Key})",
        };
    }

    public sealed record Item(int Key, int Version, long Weight);
}
