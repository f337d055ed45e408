using SafeMem.Internal;

namespace SafeMem.Attachments;

/// <summary>Names the attachment instruments: <c>safemem.attachment.*</c>.</summary>
internal sealed class AttachmentKind : IWeakCollectionKind
{
    public static string Block => "attachment";

    public static string CountDescription => "Live attachments: values attached to owners the garbage collector has not collected. Counting walks the table.";

    public static string AdditionsDescription => "Attachments added (GetOrAdd or Set attaching a value to an owner that had none).";

    public static string RemovalsDescription => "Attachments removed by Remove.";

    public static string ReclamationsDescription => "Attachments dropped because the garbage collector collected their owner.";
}
