using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using SafeMem.Attachments;
using SafeMem.Telemetry;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Attachments;

public sealed class AttachmentTests
{
    [Fact]
    public void GetOrAdd_NewOwner_RunsFactoryOnceAndReturnsTheSameValueAfterwards()
    {
        var attachment = new Attachment<Owner, Payload>("t");
        var owner = new Owner(1);
        int calls = 0;

        Payload first = attachment.GetOrAdd(owner, o => { calls++; return new Payload(o); });
        Payload second = attachment.GetOrAdd(owner, o => { calls++; return new Payload(o); });

        Assert.Same(first, second);
        Assert.Equal(1, calls);
        Assert.True(attachment.TryGet(owner, out Payload? found));
        Assert.Same(first, found);
    }

    [Fact]
    public void GetOrAdd_StatePassingOverload_PassesTheArgument()
    {
        var attachment = new Attachment<Owner, string>("t");
        var owner = new Owner(1);

        string value = attachment.GetOrAdd(owner, static (o, prefix) => prefix + o.Id, "owner-");

        Assert.Equal("owner-1", value);
    }

    [Fact]
    public void TryGet_OwnerWithoutAttachment_ReturnsFalseAndDefault()
    {
        var attachment = new Attachment<Owner, int>("t");

        Assert.False(attachment.TryGet(new Owner(1), out int value));
        Assert.Equal(0, value);
    }

    [Fact]
    public void TryGet_EqualButDistinctOwner_IsNotFound()
    {
        // Identity semantics: Owner overrides Equals/GetHashCode by Id, and the attachment must ignore that.
        var attachment = new Attachment<Owner, string>("t");
        var owner = new Owner(7);
        var twin = new Owner(7);
        Assert.Equal(owner, twin);

        attachment.Set(owner, "mine");

        Assert.False(attachment.TryGet(twin, out _));
        Assert.True(attachment.Set(twin, "twin's"));
        Assert.Equal(2, attachment.Count);
        Assert.True(attachment.TryGet(owner, out string? value));
        Assert.Equal("mine", value);
    }

    [Fact]
    public void Set_ExistingOwner_ReplacesValueWithoutCountingAnAddition()
    {
        var attachment = new Attachment<Owner, int>("t");
        var owner = new Owner(1);

        Assert.True(attachment.Set(owner, 1));
        Assert.False(attachment.Set(owner, 2));

        Assert.True(attachment.TryGet(owner, out int value));
        Assert.Equal(2, value);
        AttachmentStatistics statistics = attachment.GetStatistics();
        Assert.Equal(1, statistics.Additions);
        Assert.Equal(1, statistics.Count);
    }

    [Fact]
    public void Remove_AttachedOwner_DetachesAndCountsOneRemoval()
    {
        var attachment = new Attachment<Owner, int>("t");
        var owner = new Owner(1);
        attachment.Set(owner, 42);

        Assert.True(attachment.Remove(owner));
        Assert.False(attachment.Remove(owner));

        Assert.False(attachment.TryGet(owner, out _));
        Assert.Equal(new AttachmentStatistics { Count = 0, Additions = 1, Removals = 1, Reclamations = 0 }, attachment.GetStatistics());
    }

    [Fact]
    public void GetOrAdd_ValueTypeValues_AreStoredAndReplaced()
    {
        var attachment = new Attachment<Owner, Wide>("t");
        var owner = new Owner(1);

        Wide created = attachment.GetOrAdd(owner, static _ => new Wide(3, 3, 3, 3));
        attachment.Set(owner, new Wide(4, 4, 4, 4));

        Assert.Equal(new Wide(3, 3, 3, 3), created);
        Assert.True(attachment.TryGet(owner, out Wide current));
        Assert.Equal(new Wide(4, 4, 4, 4), current);
    }

    [Fact]
    public void GetOrAdd_FactoryReturnsNull_StoresNullAsAValue()
    {
        // Documented behaviour: for nullable value types the value is boxed, so null is an ordinary attached value.
        var attachment = new Attachment<Owner, string?>("t");
        var owner = new Owner(1);

        Assert.Null(attachment.GetOrAdd(owner, static _ => null));

        Assert.True(attachment.TryGet(owner, out string? value));
        Assert.Null(value);
        Assert.Equal(1, attachment.Count);
    }

    [Fact]
    public void GetOrAdd_FactoryThrows_StoresNothingAndLaterCallsSucceed()
    {
        var attachment = new Attachment<Owner, int>("t");
        var owner = new Owner(1);
        var other = new Owner(2);
        attachment.Set(other, 5);

        var thrown = Assert.Throws<InvalidOperationException>(
            () => attachment.GetOrAdd(owner, static _ => throw new InvalidOperationException("boom")));

        Assert.Equal("boom", thrown.Message);
        Assert.False(attachment.TryGet(owner, out _));
        Assert.True(attachment.TryGet(other, out int kept));
        Assert.Equal(5, kept);
        Assert.Equal(new AttachmentStatistics { Count = 1, Additions = 1 }, attachment.GetStatistics());
        Assert.Equal(9, attachment.GetOrAdd(owner, static _ => 9));
    }

    [Fact]
    public void GetOrAdd_FactoryReentersForTheSameOwner_ThrowsInsteadOfRecursing()
    {
        var attachment = new Attachment<Owner, int>("t");
        var owner = new Owner(1);

        Assert.Throws<InvalidOperationException>(
            () => attachment.GetOrAdd(owner, o => attachment.GetOrAdd(o, static _ => 1)));

        Assert.False(attachment.TryGet(owner, out _));
        // The guard is per call: the owner can be attached afterwards.
        Assert.Equal(2, attachment.GetOrAdd(owner, static _ => 2));
    }

    [Fact]
    public void GetOrAdd_FactoryUsesAnotherOwner_Succeeds()
    {
        var attachment = new Attachment<Owner, int>("t");
        var owner = new Owner(1);
        var other = new Owner(2);

        int value = attachment.GetOrAdd(owner, o => attachment.GetOrAdd(other, static _ => 10) + 1);

        Assert.Equal(11, value);
        Assert.Equal(2, attachment.Count);
    }

    [Fact]
    public void GetOrAdd_FactoryReentersForTheSameOwnerOnAnotherInstance_Succeeds()
    {
        var first = new Attachment<Owner, int>("a");
        var second = new Attachment<Owner, int>("b");
        var owner = new Owner(1);

        int value = first.GetOrAdd(owner, o => second.GetOrAdd(o, static _ => 4) * 2);

        Assert.Equal(8, value);
    }

    [Fact]
    public void Members_NullArguments_ThrowArgumentNullException()
    {
        var attachment = new Attachment<Owner, int>("t");
        var owner = new Owner(1);

        Assert.Equal("owner", Assert.Throws<ArgumentNullException>(() => attachment.TryGet(null!, out _)).ParamName);
        Assert.Equal("owner", Assert.Throws<ArgumentNullException>(() => attachment.GetOrAdd(null!, static _ => 1)).ParamName);
        Assert.Equal("factory", Assert.Throws<ArgumentNullException>(() => attachment.GetOrAdd(owner, null!)).ParamName);
        Assert.Equal("owner", Assert.Throws<ArgumentNullException>(() => attachment.GetOrAdd(null!, static (_, a) => a, 1)).ParamName);
        Assert.Equal("factory", Assert.Throws<ArgumentNullException>(() => attachment.GetOrAdd(owner, (Func<Owner, int, int>)null!, 1)).ParamName);
        Assert.Equal("owner", Assert.Throws<ArgumentNullException>(() => attachment.Set(null!, 1)).ParamName);
        Assert.Equal("owner", Assert.Throws<ArgumentNullException>(() => attachment.Remove(null!)).ParamName);
        Assert.Equal("options", Assert.Throws<ArgumentNullException>(() => new Attachment<Owner, int>((AttachmentOptions)null!)).ParamName);
        Assert.Throws<ArgumentException>(() => new Attachment<Owner, int>(" "));
        Assert.Equal(0, attachment.Count);
    }

    [Fact]
    public void Constructor_Default_HasAGeneratedName()
        => Assert.StartsWith("attachment-", new Attachment<Owner, int>().Name, StringComparison.Ordinal);

    [Fact]
    public void GetOrAdd_OwnerDropped_OwnerAndValueReferringBackToItAreCollected()
    {
        var attachment = new Attachment<Owner, Payload>("t");
        (WeakReference owner, WeakReference value) = AttachToDroppedOwner(attachment);

        GcAssert.Collected(owner, value);
        Assert.Equal(0, attachment.Count);
        GC.KeepAlive(attachment);
    }

    [Fact]
    public void Control_DictionarySideTable_KeepsDroppedOwnerAlive()
    {
        // The control for the test above: the same scenario with a Dictionary side table leaks the owner.
        var sideTable = new Dictionary<Owner, Payload>(ReferenceEqualityComparer.Instance);
        WeakReference owner = AddToDictionary(sideTable);

        GcAssert.Alive(owner);
        Assert.Single(sideTable);
    }

    [Fact]
    public void TryGet_OwnerAlive_KeepsItsValueAlive()
    {
        var attachment = new Attachment<Owner, Payload>("t");
        var owner = new Owner(1);
        WeakReference value = AttachValue(attachment, owner);

        GcAssert.Alive(value);
        Assert.True(attachment.TryGet(owner, out Payload? payload));
        Assert.Same(owner, payload.Owner);
    }

    [Fact]
    public void Count_SomeOwnersCollected_CountsOnlyLiveOnesAndReportsTheRestReclaimed()
    {
        var attachment = new Attachment<Owner, int>("t");
        Owner[] kept = [new Owner(1), new Owner(2), new Owner(3)];
        foreach (Owner owner in kept)
        {
            attachment.Set(owner, owner.Id);
        }

        WeakReference[] dropped = AttachDroppedOwners(attachment, 5);
        attachment.Remove(kept[2]);

        GcAssert.Collected(dropped);
        Assert.Equal(2, attachment.Count);
        Assert.Equal(new AttachmentStatistics { Count = 2, Additions = 8, Removals = 1, Reclamations = 5 }, attachment.GetStatistics());
        GC.KeepAlive(kept);
    }

    [Fact]
    public void Attachment_DroppedWithLiveOwners_IsCollected()
    {
        // The instance itself must not be rooted by its telemetry registration or by the owners' entries.
        var owner = new Owner(1);
        WeakReference attachment = CreateAttachmentFor(owner);

        GcAssert.Collected(attachment);
        GC.KeepAlive(owner);
    }

    [Fact]
    public void GetStatistics_WithMeterFactory_PublishesTheSameFiguresAsInstruments()
    {
        using var factory = new TestMeterFactory();
        var attachment = new Attachment<Owner, int>(new AttachmentOptions { Name = "tooltips", MeterFactory = factory });
        using var recorder = new MetricRecorder(SafeMemMeter.Resolve(factory));
        var a = new Owner(1);
        var b = new Owner(2);
        attachment.Set(a, 1);
        attachment.Set(b, 2);
        attachment.Remove(b);
        GcAssert.Collected(AttachDroppedOwners(attachment, 2));

        Assert.Equal(1, recorder.ObserveValue("safemem.attachment.entry.count", "tooltips"));
        Assert.Equal(4, recorder.ObserveValue("safemem.attachment.additions", "tooltips"));
        Assert.Equal(1, recorder.ObserveValue("safemem.attachment.removals", "tooltips"));
        Assert.Equal(2, recorder.ObserveValue("safemem.attachment.reclamations", "tooltips"));
        foreach (string name in new[] { "entry.count", "additions", "removals", "reclamations" })
        {
            Instrument instrument = recorder.Instruments["safemem.attachment." + name];
            Assert.Equal("{entry}", instrument.Unit);
            Assert.False(string.IsNullOrEmpty(instrument.Description));
        }

        Assert.IsType<ObservableUpDownCounter<long>>(recorder.Instruments["safemem.attachment.entry.count"]);
        Assert.IsType<ObservableCounter<long>>(recorder.Instruments["safemem.attachment.reclamations"]);
        Assert.Equal(new AttachmentStatistics { Count = 1, Additions = 4, Removals = 1, Reclamations = 2 }, attachment.GetStatistics());
        GC.KeepAlive(a);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (WeakReference Owner, WeakReference Value) AttachToDroppedOwner(Attachment<Owner, Payload> attachment)
    {
        var owner = new Owner(1);
        Payload payload = attachment.GetOrAdd(owner, static o => new Payload(o));
        return (new WeakReference(owner), new WeakReference(payload));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference AddToDictionary(Dictionary<Owner, Payload> sideTable)
    {
        var owner = new Owner(1);
        sideTable.Add(owner, new Payload(owner));
        return new WeakReference(owner);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference AttachValue(Attachment<Owner, Payload> attachment, Owner owner)
        => new(attachment.GetOrAdd(owner, static o => new Payload(o)));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference[] AttachDroppedOwners(Attachment<Owner, int> attachment, int count)
    {
        var references = new WeakReference[count];
        for (int i = 0; i < count; i++)
        {
            var owner = new Owner(100 + i);
            attachment.Set(owner, i);
            references[i] = new WeakReference(owner);
        }

        return references;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference CreateAttachmentFor(Owner owner)
    {
        var attachment = new Attachment<Owner, Payload>("dropped");
        attachment.GetOrAdd(owner, static o => new Payload(o));
        _ = attachment.GetStatistics();
        return new WeakReference(attachment);
    }

    /// <summary>An owner whose Equals says two instances with the same id are equal (which attachments must ignore).</summary>
    private sealed class Owner(int id) : IEquatable<Owner>
    {
        public int Id { get; } = id;

        public bool Equals(Owner? other) => other is not null && other.Id == Id;

        public override bool Equals(object? obj) => Equals(obj as Owner);

        public override int GetHashCode() => Id;
    }

    /// <summary>A value that refers back to its owner: the ephemeron case.</summary>
    private sealed class Payload(Owner owner)
    {
        public Owner Owner { get; } = owner;
    }

    private readonly record struct Wide(long A, long B, long C, long D);
}
