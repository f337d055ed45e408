namespace SafeMem.Extensions.Backplane;

/// <summary>
/// The publish/subscribe channel a <see cref="RedisBackplane"/> talks over: Redis pub/sub in production
/// (<see cref="RedisBackplaneTransport"/>), an in-process bus in the unit tests of message handling and recovery.
/// </summary>
/// <remarks>
/// Every member may be called concurrently and must not block: the backplane calls them from its probe timer, its
/// sender and its message handler, never from an application request. Messages arrive through the handler the
/// transport was created with, on the transport's threads, possibly concurrently and in any order.
/// </remarks>
internal interface IBackplaneTransport : IAsyncDisposable
{
    /// <summary>Raised when the transport knows it lost its connection (messages may be lost from now on).</summary>
    event Action? ConnectionLost;

    /// <summary>Subscribes to <paramref name="channel"/> (again, if it was: never twice). Fails if it cannot now; it may be called again.</summary>
    Task SubscribeAsync(string channel);

    /// <summary>Publishes <paramref name="message"/> on <paramref name="channel"/>; fails if the server did not take it.</summary>
    Task PublishAsync(string channel, byte[] message);
}
