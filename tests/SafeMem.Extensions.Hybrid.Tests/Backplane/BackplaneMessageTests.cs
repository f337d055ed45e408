using SafeMem.Extensions.Backplane;

namespace SafeMem.Extensions.Hybrid.Tests.Backplane;

public sealed class BackplaneMessageTests
{
    private static readonly Guid s_node = Guid.NewGuid();

    [Theory]
    [InlineData(1, "customer:42", 0L)]
    [InlineData(1, "clé-ü-🙂", 0L)]
    [InlineData(2, "prices", 638_000_000_000_000_000L)]
    [InlineData(2, "*", 1L)]
    [InlineData(3, "", 0L)]
    [InlineData(4, "", 123_456_789L)]
    public void EncodeThenDecode_GivesTheMessageBack(byte kind, string text, long ticks)
    {
        var message = new BackplaneMessage((BackplaneMessageKind)kind, s_node, text, ticks);

        Assert.True(BackplaneMessage.TryDecode(message.Encode(), out BackplaneMessage decoded));
        Assert.Equal(message, decoded);
    }

    [Fact]
    public void Messages_AreAsSmallAsTheirContent()
    {
        // Version, kind, the 16-byte node id, then the key; a tag carries its 8-byte time; a clear nothing.
        Assert.Equal(18 + 11, BackplaneMessage.ForKey(s_node, "customer:42").Encode().Length);
        Assert.Equal(18 + 8 + 6, BackplaneMessage.ForTag(s_node, "prices", 1).Encode().Length);
        Assert.Equal(18, BackplaneMessage.ForClear(s_node).Encode().Length);
        Assert.Equal(18 + 8, BackplaneMessage.ForProbe(s_node, 1).Encode().Length);
    }

    [Fact]
    public void TryDecode_RefusesAnythingElse_WithoutThrowing()
    {
        byte[] key = BackplaneMessage.ForKey(s_node, "k").Encode();
        byte[] tag = BackplaneMessage.ForTag(s_node, "t", 1).Encode();
        byte[] probe = BackplaneMessage.ForProbe(s_node, 1).Encode();
        byte[][] malformed =
        [
            [],
            key[..17],                          // shorter than the header
            [2, .. key[1..]],                   // another format version
            [1, 0, .. key[2..]],                // kind 0
            [1, 9, .. key[2..]],                // unknown kind
            key[..18],                          // a key message without a key
            [.. key[..18], 0xFF, 0xFE],         // a key that is not UTF-8
            tag[..26],                          // a tag message without a tag
            tag[..20],                          // a tag message cut inside its time
            probe[..25],                        // a probe cut inside its time
            [.. probe, 0],                      // a probe with a byte too many
            [.. BackplaneMessage.ForClear(s_node).Encode(), 1], // a clear with a body
        ];

        Assert.All(malformed, bytes => Assert.False(BackplaneMessage.TryDecode(bytes, out _), Convert.ToHexString(bytes)));
    }
}
