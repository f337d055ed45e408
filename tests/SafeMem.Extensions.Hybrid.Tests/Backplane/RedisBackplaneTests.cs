using System.Text;
using Microsoft.Extensions.Time.Testing;
using SafeMem.Extensions.Backplane;
using SafeMem.Extensions.Hybrid.Tests.Caching;

namespace SafeMem.Extensions.Hybrid.Tests.Backplane;

/// <summary>
/// The backplane's message handling, health and recovery, on nodes in one process over an in-memory bus and a shared
/// in-memory "Redis": what a change on one node does to another's L1, what a node ignores, what it does while it cannot
/// hear the others and when it hears them again. The same behaviour over a real redis-server and separate processes is
/// in Integration/RedisBackplaneProcessTests.
/// </summary>
public sealed class RedisBackplaneTests : IDisposable
{
    private readonly InMemoryBackplaneBus _bus = new();
    private readonly ScriptedDistributedCache _redis = new();
    private readonly FakeTimeProvider _clock = new();
    private readonly List<BackplaneTestNode> _nodes = [];

    public void Dispose()
    {
        foreach (BackplaneTestNode node in _nodes)
        {
            node.Dispose();
        }
    }

    [Fact]
    public async Task SetAsync_OnA_RemovesTheKeyFromBsL1_AndBReadsTheNewValue()
    {
        (BackplaneTestNode a, BackplaneTestNode b) = await TwoNodesSharingAsync("k", "v1");
        long received = b.Backplane.GetStatistics().Received; // A's write-back of v1 was announced too
        long sent = a.Backplane.GetStatistics().Sent;

        await a.Cache.SetAsync("k", "v2");

        // A counts a message sent once its publish is over: B has handled it, its figures included (B removes the entry
        // before it counts the removal, so B's L1 alone would not do).
        await WaitUntilAsync(() => a.Backplane.GetStatistics().Sent > sent);
        Assert.False(b.HasLocal("k"));
        Assert.Equal("v2", await b.GetAsync("k", "b's factory"));
        RedisBackplaneStatistics receiver = b.Backplane.GetStatistics();
        Assert.Equal((received + 1, 1L, 0L), (receiver.Received, receiver.RemovedByInvalidation, receiver.Malformed));
    }

    [Fact]
    public async Task RemoveAsync_OnA_RemovesTheKeyFromBsL1_AndBRunsItsFactory()
    {
        (BackplaneTestNode a, BackplaneTestNode b) = await TwoNodesSharingAsync("k", "v1");
        long sent = a.Backplane.GetStatistics().Sent;

        await a.Cache.RemoveAsync("k");

        await WaitUntilAsync(() => a.Backplane.GetStatistics().Sent > sent); // B has handled the message, figures included
        Assert.False(b.HasLocal("k"));
        Assert.Equal("b's factory", await b.GetAsync("k", "b's factory"));
        Assert.Equal(1L, b.Backplane.GetStatistics().RemovedByInvalidation);
    }

    [Fact]
    public async Task WithoutABackplaneMessage_BKeepsServingItsL1Copy()
    {
        // The control: the same change, with B cut off from the bus, leaves B's copy in place.
        (BackplaneTestNode a, BackplaneTestNode b) = await TwoNodesSharingAsync("k", "v1");
        long sent = a.Backplane.GetStatistics().Sent;
        b.Transport.IsCutOff = true;

        await a.Cache.SetAsync("k", "v2");
        await WaitUntilAsync(() => a.Backplane.GetStatistics().Sent > sent);

        Assert.Equal("v1", await b.GetAsync("k", "b's factory"));
        Assert.Equal(0L, b.Backplane.GetStatistics().RemovedByInvalidation);
    }

    [Fact]
    public async Task OwnMessages_AreIgnored()
    {
        BackplaneTestNode a = Start("a");

        await a.Cache.SetAsync("k", "v1");
        await WaitUntilAsync(() => a.Backplane.GetStatistics().Sent >= 1);

        // Redis echoes a message to every subscriber, its publisher included: A must not drop the value it just wrote.
        Assert.Contains(_bus.Published, p => p.Channel == a.Backplane.Channel);
        Assert.True(a.HasLocal("k"));
        RedisBackplaneStatistics statistics = a.Backplane.GetStatistics();
        Assert.Equal((0L, 0L, 0L), (statistics.Received, statistics.RemovedByInvalidation, statistics.Malformed));
    }

    [Fact]
    public async Task MalformedMessages_AreIgnoredAndCounted()
    {
        BackplaneTestNode b = Start("b");
        await b.GetAsync("k", "v1");
        byte[] valid = BackplaneMessage.ForKey(Guid.NewGuid(), "k").Encode();
        byte[] wrongVersion = [.. valid];
        wrongVersion[0] = 2;
        byte[] unknownKind = [.. valid];
        unknownKind[1] = 9;
        byte[] invalidUtf8 = [.. valid[..18], 0xC3, 0x28];
        byte[] emptyKey = valid[..18];

        foreach (byte[]? message in new[]
        {
            null, [], [1, 1, 2], wrongVersion, unknownKind, invalidUtf8, emptyKey,
            BackplaneMessage.ForProbe(Guid.NewGuid(), 1).Encode(), // a probe on the shared channel
        })
        {
            _bus.Inject(b.Backplane.Channel, message);
        }

        _bus.Inject(b.ProbeChannel, BackplaneMessage.ForProbe(Guid.NewGuid(), 1).Encode()); // another node's probe on B's channel
        _bus.Inject(b.ProbeChannel, valid); // a key message on B's probe channel

        RedisBackplaneStatistics statistics = b.Backplane.GetStatistics();
        Assert.Equal((10L, 0L, 0L), (statistics.Malformed, statistics.Received, statistics.RemovedByInvalidation));
        Assert.True(b.HasLocal("k"));

        _bus.Inject(b.Backplane.Channel, valid); // and a good one still works
        Assert.False(b.HasLocal("k"));
    }

    [Fact]
    public async Task ChannelPrefix_SeparatesApplicationsSharingARedis()
    {
        BackplaneTestNode a = Start("a", o => o.ChannelPrefix = "orders:");
        BackplaneTestNode sameApplication = Start("b", o => o.ChannelPrefix = "orders:");
        BackplaneTestNode otherApplication = Start("c", o => o.ChannelPrefix = "billing:");
        foreach (BackplaneTestNode node in new[] { sameApplication, otherApplication })
        {
            await node.GetAsync("k", "v1");
        }

        await a.Cache.SetAsync("k", "v2");

        await WaitUntilAsync(() => !sameApplication.HasLocal("k"));
        Assert.Equal("orders:safemem-backplane", a.Backplane.Channel);
        Assert.True(otherApplication.HasLocal("k"));
        Assert.Equal(0L, otherApplication.Backplane.GetStatistics().RemovedByInvalidation);
        Assert.All(
            _bus.Published.Where(p => BackplaneMessage.TryDecode(p.Message, out BackplaneMessage m) && m.Sender == a.Backplane.NodeId),
            p => Assert.StartsWith("orders:safemem-backplane", p.Channel, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Messages_AreSmall_AKeyAndTheSendersId()
    {
        BackplaneTestNode a = Start("a");
        string key = "customer:42:orders:recent"; // 25 ASCII characters

        await a.Cache.RemoveAsync(key);
        await WaitUntilAsync(() => a.Backplane.GetStatistics().Sent >= 1);

        byte[] message = Assert.Single(_bus.Published, p => p.Channel == a.Backplane.Channel).Message;
        Assert.Equal(2 + 16 + key.Length, message.Length);
        Assert.True(BackplaneMessage.TryDecode(message, out BackplaneMessage decoded));
        Assert.Equal((BackplaneMessageKind.Key, a.Backplane.NodeId, key), (decoded.Kind, decoded.Sender, decoded.Text));
    }

    [Fact]
    public async Task RemoveByTagAsync_OnA_InvalidatesTheTagOnB_WithoutBWritingTheRecordAgain()
    {
        BackplaneTestNode a = Start("a");
        BackplaneTestNode b = Start("b");
        string[] tags = ["prices"];
        Assert.Equal("v1", await a.GetAsync("k", "v1", tags));
        await _redis.WaitForKeyAsync("k");
        Assert.Equal("v1", await b.GetAsync("k", "b's factory", tags)); // B has looked the tag up: HybridCache alone would never learn of the invalidation

        await WaitUntilAsync(() => a.Backplane.GetStatistics().Sent >= 1); // A's write-back of v1, announced
        long sent = a.Backplane.GetStatistics().Sent;

        await a.Cache.RemoveByTagAsync("prices");
        byte[] record = _redis.Store["__MSFT_HCT__prices"];
        await WaitUntilAsync(() => a.Backplane.GetStatistics().Sent > sent); // delivered (and applied) before the publish completes

        // B rejects its L1 copy and Redis's (both made before the invalidation), and makes the value again.
        Assert.Equal("v2", await b.GetAsync("k", "v2", tags));

        // B writes v2 back and announces it in the background (its first message: its read of v1 was a hit in Redis).
        await WaitUntilAsync(() => b.Backplane.GetStatistics().Sent == 1);
        Assert.Equal(record, _redis.Store["__MSFT_HCT__prices"]); // B applied the invalidation locally, it did not rewrite it
        Assert.Equal(1L, a.Backplane.GetStatistics().Received); // and did not send it back: A heard only B's write-back of v2
        Assert.DoesNotContain(
            _bus.Published,
            p => BackplaneMessage.TryDecode(p.Message, out BackplaneMessage m) && m.Sender == b.Backplane.NodeId && m.Kind == BackplaneMessageKind.Tag);
    }

    [Fact]
    public async Task ANodeThatCannotHear_DropsItsL1AfterTheTrustLimit_AndAgainWhenItHearsAgain()
    {
        (BackplaneTestNode a, BackplaneTestNode b) = await TwoNodesSharingAsync("k", "v1");
        b.Transport.IsCutOff = true;

        // A's change does not reach B. B notices it hears nothing three probe periods later.
        await a.Cache.SetAsync("k", "v2");
        Advance(TimeSpan.FromSeconds(1), a, b);
        Advance(TimeSpan.FromSeconds(1), a, b);
        Assert.True(b.Backplane.IsConnected);
        Advance(TimeSpan.FromSeconds(1.5), a, b);
        Assert.False(b.Backplane.IsConnected);
        Assert.Equal("v1", await b.GetAsync("k", "b's factory")); // still trusted: within 5 s of the last probe heard

        // Five seconds after the last probe B heard, it drops its L1, and reads the new value from Redis.
        Advance(TimeSpan.FromSeconds(1.6), a, b);
        Assert.False(b.HasLocal("k"));
        Assert.Equal(1L, b.Backplane.GetStatistics().RemovedWhileDisconnected);
        Assert.Equal("v2", await b.GetAsync("k", "b's factory"));

        // What it reads while it still cannot hear is trusted for 5 s at most too.
        await b.GetAsync("other", "x");
        Advance(TimeSpan.FromSeconds(5), a, b);
        Assert.Equal(0, b.L1.Count);
        Assert.Equal(3L, b.Backplane.GetStatistics().RemovedWhileDisconnected);

        // It hears again: the next probe comes back, and B drops what it read meanwhile (it may have missed changes).
        await b.GetAsync("k", "b's factory");
        b.Transport.IsCutOff = false;
        b.Tick();
        RedisBackplaneStatistics statistics = b.Backplane.GetStatistics();
        Assert.True(statistics.IsConnected);
        Assert.Equal((1L, 1L), (statistics.Reconnections, statistics.RemovedByRecovery));
        Assert.Equal(0, b.L1.Count);
    }

    [Fact]
    public async Task ATagInvalidatedWhileANodeCouldNotHear_IsAppliedWhenItHearsAgain()
    {
        BackplaneTestNode a = Start("a");
        BackplaneTestNode b = Start("b");
        string[] tags = ["prices"];
        Assert.Equal("v1", await a.GetAsync("k", "v1", tags));
        await _redis.WaitForKeyAsync("k");
        await WaitUntilAsync(() => a.Backplane.GetStatistics().Sent >= 1);
        Assert.Equal("v1", await b.GetAsync("k", "b's factory", tags)); // B has looked "prices" up: it knows the tag

        // B misses A's tag invalidation. Its L1 copy is dropped once it hears again, but that alone would not do: Redis
        // still holds the entry, and B's HybridCache still holds the tag's old time, so it would accept the entry again.
        b.Transport.IsCutOff = true;
        long sent = a.Backplane.GetStatistics().Sent;
        await a.Cache.RemoveByTagAsync("prices");
        await WaitUntilAsync(() => a.Backplane.GetStatistics().Sent > sent); // published while B could not hear
        b.Transport.IsCutOff = false;
        b.Transport.RaiseConnectionLost();
        b.Tick();

        // On recovery B re-reads the tag's record, finds it moved, and applies it (a step that fails is tried again on the
        // next probe period, as the probe loop would).
        await WaitUntilAsync(() =>
        {
            b.Tick();
            return b.Backplane.IsConnected && !b.Backplane.IsRecovering;
        });
        Assert.Equal("v2", await b.GetAsync("k", "v2", tags));
    }

    [Fact]
    public void AConnectionFailure_MakesTheNodeDisconnectedAtOnce()
    {
        BackplaneTestNode a = Start("a");
        Assert.True(a.Backplane.IsConnected);

        a.Transport.RaiseConnectionLost();

        Assert.False(a.Backplane.IsConnected);
        a.Tick();
        Assert.True(a.Backplane.IsConnected); // its next probe comes back: it hears again
        Assert.Equal(1L, a.Backplane.GetStatistics().Reconnections);
    }

    [Fact]
    public async Task ARemovalRedisRefused_IsRepeatedOnRecovery_AndAnnounced()
    {
        (BackplaneTestNode a, BackplaneTestNode b) = await TwoNodesSharingAsync("k", "v1");
        long sent = a.Backplane.GetStatistics().Sent;

        // Redis refuses A's removal, and A cannot publish: B hears nothing, Redis still holds v1.
        a.Transport.IsCutOff = true;
        _redis.Behavior = ScriptedBehavior.Throw;
        await Assert.ThrowsAnyAsync<Exception>(() => a.Cache.RemoveAsync("k").AsTask());
        Assert.Equal(1, a.Backplane.GetStatistics().PendingChanges);

        // Redis is back, and A hears again: it removes the key from Redis again and announces it; B (which never stopped
        // hearing) drops its copy on that message alone.
        _redis.Behavior = ScriptedBehavior.Answer;
        a.Transport.IsCutOff = false;
        a.Transport.RaiseConnectionLost();
        a.Tick();
        await WaitUntilAsync(() => a.Backplane.GetStatistics().Sent > sent); // B has handled the message, figures included

        Assert.False(b.HasLocal("k"));
        Assert.False(_redis.Store.ContainsKey("k"));
        Assert.Equal("b's factory", await b.GetAsync("k", "b's factory"));
        Assert.Equal((0L, 1L), (b.Backplane.GetStatistics().Reconnections, b.Backplane.GetStatistics().RemovedByInvalidation));
        await WaitUntilAsync(() => a.Backplane.GetStatistics().PendingChanges == 0);
    }

    [Fact]
    public async Task ChangesPastTheLimit_AreDropped_AndRecoveryTellsEveryNodeToDropItsL1()
    {
        (BackplaneTestNode a, BackplaneTestNode b) = await TwoNodesSharingAsync("k", "v1", o => o.MaximumPendingChanges = 2);
        await b.GetAsync("unrelated", "u");
        await _redis.WaitForKeyAsync("unrelated");
        await WaitUntilAsync(() => b.Backplane.GetStatistics().Sent == 1); // B's write-back of it, announced
        a.Transport.IsCutOff = true;
        _redis.Behavior = ScriptedBehavior.Throw;
        for (int i = 0; i < 3; i++)
        {
            await Assert.ThrowsAnyAsync<Exception>(() => a.Cache.RemoveAsync("gone" + i).AsTask());
        }

        RedisBackplaneStatistics cutOff = a.Backplane.GetStatistics();
        Assert.Equal((2, 1L), (cutOff.PendingChanges, cutOff.Dropped));

        _redis.Behavior = ScriptedBehavior.Answer;
        a.Transport.IsCutOff = false;
        a.Transport.RaiseConnectionLost();
        a.Tick();

        // A cannot say which change it lost: every other node drops its whole L1.
        await WaitUntilAsync(() => b.L1.Count == 0);
        Assert.Contains(_bus.Published, p => BackplaneMessage.TryDecode(p.Message, out BackplaneMessage m) && m.Kind == BackplaneMessageKind.Clear);
        Assert.Equal(0L, b.Backplane.GetStatistics().Reconnections);
    }

    [Fact]
    public async Task ARead_ThatAnotherNodesChangeOverlapped_IsRepeated()
    {
        BackplaneTestNode b = Start("b");
        await b.L2.SetAsync("k", Encoding.UTF8.GetBytes("old"), new());
        _redis.Behavior = ScriptedBehavior.Hang;

        // The read reaches Redis and hangs; meanwhile another node's change of "k" arrives (Redis has the new value by then).
        int calls = _redis.Calls;
        Task<byte[]?> read = b.L2.GetAsync("k");
        await _redis.WaitForCallsAsync(calls + 1);
        _redis.Behavior = ScriptedBehavior.Answer;
        _redis.Set("k", Encoding.UTF8.GetBytes("new"), new());
        _bus.Inject(b.Backplane.Channel, BackplaneMessage.ForKey(Guid.NewGuid(), "k").Encode());
        _redis.ReleaseHung();

        // The hung read answers; since it overlapped the change it is repeated, and the repeat sees the new value.
        Assert.Equal("new", Encoding.UTF8.GetString((await read)!));
        Assert.Equal(calls + 2, _redis.Calls);

        // The control: a read no change overlapped is made once.
        Assert.Equal("new", Encoding.UTF8.GetString((await b.L2.GetAsync("k"))!));
        Assert.Equal(calls + 3, _redis.Calls);
    }

    private BackplaneTestNode Start(string name, Action<RedisBackplaneOptions>? configure = null)
    {
        BackplaneTestNode node = BackplaneTestNode.Start(_bus, _redis, _clock, name, configure);
        _nodes.Add(node);
        Assert.True(node.Backplane.IsConnected);
        return node;
    }

    /// <summary>Two nodes that both hold <paramref name="key"/> = <paramref name="value"/> in their L1 (B read it from Redis).</summary>
    private async Task<(BackplaneTestNode A, BackplaneTestNode B)> TwoNodesSharingAsync(string key, string value, Action<RedisBackplaneOptions>? configure = null)
    {
        BackplaneTestNode a = Start("a", configure);
        BackplaneTestNode b = Start("b", configure);
        Assert.Equal(value, await a.GetAsync(key, value));
        await _redis.WaitForKeyAsync(key);

        // A announces its write-back of the value; B reads only once that message is behind it, or it would drop its copy.
        await WaitUntilAsync(() => a.Backplane.GetStatistics().Sent >= 1);
        Assert.Equal(value, await b.GetAsync(key, "b's factory"));
        Assert.True(a.HasLocal(key) && b.HasLocal(key));
        await WaitUntilAsync(() => a.Backplane.GetStatistics().PendingChanges == 0);
        return (a, b);
    }

    private void Advance(TimeSpan by, params BackplaneTestNode[] nodes)
    {
        _clock.Advance(by);
        foreach (BackplaneTestNode node in nodes)
        {
            node.Tick();
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (int i = 0; !condition(); i++)
        {
            Assert.True(i < 2_000, "The condition did not hold within 20 s.");
            await Task.Delay(10);
        }
    }
}
