using SafeMem.Internal;

namespace SafeMem.Attachments;

/// <summary>An immutable snapshot of an <see cref="Attachment{TOwner, TValue}"/>'s figures.</summary>
/// <remarks>
/// The same figures as the <c>safemem.attachment.*</c> instruments. <see cref="Reclamations"/> is derived
/// (<see cref="Additions"/> - <see cref="Removals"/> - <see cref="Count"/>): exact when no write races with the
/// snapshot, otherwise a slight under-estimate.
/// </remarks>
public sealed record AttachmentStatistics
{
    /// <summary>Gets the number of live attachments: owners not yet collected by the garbage collector.</summary>
    public int Count { get; init; }

    /// <summary>Gets the number of attachments added (by <c>GetOrAdd</c> or <c>Set</c>) since creation.</summary>
    public long Additions { get; init; }

    /// <summary>Gets the number of live attachments removed by <c>Remove</c>.</summary>
    public long Removals { get; init; }

    /// <summary>Gets the number of attachments dropped because the garbage collector collected their owner.</summary>
    public long Reclamations { get; init; }

    internal static AttachmentStatistics From(WeakCollectionFigures figures) => new()
    {
        Count = figures.Count,
        Additions = figures.Additions,
        Removals = figures.Removals,
        Reclamations = figures.Reclamations,
    };
}
