using SafeMem.Internal;

namespace SafeMem.Attachments;

/// <summary>Names the attachment instruments: <c>safemem.attachment.*</c>.</summary>
internal sealed class AttachmentKind : IWeakCollectionKind
{
    public static string Block => "attachment";

    public static string EntriesNoun => "attachments";
}
