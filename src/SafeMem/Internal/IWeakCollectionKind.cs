namespace SafeMem.Internal;

/// <summary>
/// Names one family of weak collections for telemetry (attachments, registries). Each family gets its own instrument
/// set, because <see cref="Telemetry.InstrumentRegistry{TSource}"/> creates instruments once per source type.
/// </summary>
internal interface IWeakCollectionKind
{
    /// <summary>The block segment of the instrument names (<c>safemem.&lt;block&gt;.*</c>).</summary>
    static abstract string Block { get; }

    /// <summary>What one entry is called in instrument descriptions (plural, e.g. "attachments").</summary>
    static abstract string EntriesNoun { get; }
}
