namespace SafeMem.Disposal;

/// <summary>
/// An immutable snapshot of the figures of every <see cref="DisposalScope"/> with one name (on one meter): the same ones
/// the <c>safemem.scope.*</c> instruments publish for that name.
/// </summary>
/// <remarks>Counts are cumulative since the first scope with this name was created on this meter.</remarks>
public sealed class DisposalScopeStatistics
{
    /// <summary>Gets the scopes' name.</summary>
    public required string Name { get; init; }

    /// <summary>Gets the number of scopes with this name that are open: created and not disposed (a scope dropped undisposed stays counted).</summary>
    public long ScopeCount { get; init; }

    /// <summary>Gets the number of items (disposables and callbacks) these scopes disposed or ran, including those that threw.</summary>
    public long Disposals { get; init; }

    /// <summary>Gets the number of items whose disposal or callback threw.</summary>
    public long Failures { get; init; }

    /// <inheritdoc/>
    public override string ToString() => $"{Name}: {ScopeCount} open, {Disposals} items disposed, {Failures} failures";
}
