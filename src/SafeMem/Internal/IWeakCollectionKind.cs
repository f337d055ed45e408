namespace SafeMem.Internal;

/// <summary>
/// Names one family of weak collections for telemetry (attachments, registries). Each family gets its own instrument
/// set, because <see cref="Telemetry.InstrumentRegistry{TSource}"/> creates instruments once per source type.
/// </summary>
internal interface IWeakCollectionKind
{
    /// <summary>The block segment of the instrument names (<c>safemem.&lt;block&gt;.*</c>).</summary>
    static abstract string Block { get; }

    /// <summary>The description of <c>entry.count</c>: what makes an entry of this family live.</summary>
    static abstract string CountDescription { get; }

    /// <summary>The description of <c>additions</c>: which members add an entry.</summary>
    static abstract string AdditionsDescription { get; }

    /// <summary>The description of <c>removals</c>: which members remove an entry.</summary>
    static abstract string RemovalsDescription { get; }

    /// <summary>The description of <c>reclamations</c>: what the garbage collector collected.</summary>
    static abstract string ReclamationsDescription { get; }
}
