using System.Buffers.Binary;
using System.Text;

namespace SafeMem.Extensions.Backplane;

/// <summary>What a backplane message says.</summary>
internal enum BackplaneMessageKind : byte
{
    /// <summary>A key was written or removed: drop it from the local cache.</summary>
    Key = 1,

    /// <summary>A tag was invalidated at the given time: invalidate it locally (HybridCache's <c>RemoveByTagAsync</c>).</summary>
    Tag = 2,

    /// <summary>The sender lost track of changes it made: forget every local entry.</summary>
    Clear = 3,

    /// <summary>A node's message to itself, on its own channel, that proves it hears the server.</summary>
    Probe = 4,
}

/// <summary>
/// One backplane message and its wire format (version 1), small by design: one byte of version, one of kind, the
/// sender's 16-byte node id, then for <see cref="BackplaneMessageKind.Key"/> the key in UTF-8, for
/// <see cref="BackplaneMessageKind.Tag"/> the 8-byte little-endian invalidation time (UTC ticks, as HybridCache writes
/// it) then the tag in UTF-8, for <see cref="BackplaneMessageKind.Probe"/> the 8-byte send timestamp, and nothing for
/// <see cref="BackplaneMessageKind.Clear"/>. A key of 40 ASCII characters makes a 58-byte message.
/// </summary>
/// <remarks>
/// Decoding never throws: anything else (another version, an unknown kind, a wrong length, text that is not valid
/// UTF-8, an empty key or tag) is malformed, and the caller counts and ignores it.
/// </remarks>
internal readonly record struct BackplaneMessage(BackplaneMessageKind Kind, Guid Sender, string Text, long Ticks)
{
    public const byte FormatVersion = 1;
    private const int HeaderLength = 2 + 16;

    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static BackplaneMessage ForKey(Guid sender, string key) => new(BackplaneMessageKind.Key, sender, key, 0);

    public static BackplaneMessage ForTag(Guid sender, string tag, long invalidatedAt) => new(BackplaneMessageKind.Tag, sender, tag, invalidatedAt);

    public static BackplaneMessage ForClear(Guid sender) => new(BackplaneMessageKind.Clear, sender, "", 0);

    public static BackplaneMessage ForProbe(Guid sender, long sentAt) => new(BackplaneMessageKind.Probe, sender, "", sentAt);

    public byte[] Encode()
    {
        int textLength = Kind is BackplaneMessageKind.Key or BackplaneMessageKind.Tag ? s_strictUtf8.GetByteCount(Text) : 0;
        int ticksLength = Kind is BackplaneMessageKind.Tag or BackplaneMessageKind.Probe ? sizeof(long) : 0;
        byte[] message = new byte[HeaderLength + ticksLength + textLength];
        message[0] = FormatVersion;
        message[1] = (byte)Kind;
        Sender.TryWriteBytes(message.AsSpan(2, 16));
        if (ticksLength > 0)
        {
            BinaryPrimitives.WriteInt64LittleEndian(message.AsSpan(HeaderLength), Ticks);
        }

        if (textLength > 0)
        {
            s_strictUtf8.GetBytes(Text, message.AsSpan(HeaderLength + ticksLength));
        }

        return message;
    }

    public static bool TryDecode(ReadOnlySpan<byte> message, out BackplaneMessage decoded)
    {
        decoded = default;
        if (message.Length < HeaderLength || message[0] != FormatVersion)
        {
            return false;
        }

        var kind = (BackplaneMessageKind)message[1];
        var sender = new Guid(message.Slice(2, 16));
        ReadOnlySpan<byte> body = message[HeaderLength..];
        switch (kind)
        {
            case BackplaneMessageKind.Key when TryText(body, out string? key):
                decoded = ForKey(sender, key);
                return true;
            case BackplaneMessageKind.Tag when body.Length > sizeof(long) && TryText(body[sizeof(long)..], out string? tag):
                decoded = ForTag(sender, tag, BinaryPrimitives.ReadInt64LittleEndian(body));
                return true;
            case BackplaneMessageKind.Clear when body.IsEmpty:
                decoded = ForClear(sender);
                return true;
            case BackplaneMessageKind.Probe when body.Length == sizeof(long):
                decoded = ForProbe(sender, BinaryPrimitives.ReadInt64LittleEndian(body));
                return true;
            default:
                return false;
        }
    }

    private static bool TryText(ReadOnlySpan<byte> bytes, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? text)
    {
        text = null;
        if (bytes.IsEmpty)
        {
            return false;
        }

        try
        {
            text = s_strictUtf8.GetString(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }
}
