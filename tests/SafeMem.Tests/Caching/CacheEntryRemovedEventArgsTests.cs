using SafeMem.Caching;

namespace SafeMem.Tests.Caching;

public sealed class CacheEntryRemovedEventArgsTests
{
    [Fact]
    public void Constructor_SetsKeyValueAndReason()
    {
        var args = new CacheEntryRemovedEventArgs<int, string>(1, "a", RemovalReason.Expired);

        Assert.Equal(1, args.Key);
        Assert.Equal("a", args.Value);
        Assert.Equal(RemovalReason.Expired, args.Reason);
    }
}
