using System.Collections.Concurrent;
using StackExchange.Redis;

namespace SafeMem.Extensions.Backplane;

/// <summary>
/// Redis pub/sub for a <see cref="RedisBackplane"/>, over the application's <see cref="IConnectionMultiplexer"/> or one
/// of its own.
/// </summary>
/// <remarks>
/// <para><b>The connection.</b> Taken from the options when the first subscription is made (never in a constructor, so
/// resolving the backplane never waits for Redis): the given multiplexer, the factory's, or one this transport connects
/// from <c>Configuration</c>/<c>ConfigurationOptions</c> and owns. For its own, it sets
/// <see cref="ConfigurationOptions.AbortOnConnectFail"/> to false (start without Redis and reconnect in the
/// background) and <see cref="BacklogPolicy.FailFast"/> (while disconnected a publish fails at once, and the backplane
/// keeps the change for recovery, rather than holding it in the client's backlog).</para>
/// <para><b>What it holds.</b> The multiplexer (disposed here only if owned), and one handler per channel, which the
/// multiplexer holds; the handler holds the backplane only weakly (the backplane passes such a handler in).</para>
/// <para>Thread-safe; nothing blocks: subscribing and publishing are asynchronous, connection failures are reported
/// through <see cref="ConnectionLost"/>.</para>
/// </remarks>
internal sealed class RedisBackplaneTransport : IBackplaneTransport
{
    private readonly RedisBackplaneOptions _options;
    private readonly Action<string, byte[]?> _onMessage;
    private readonly ConcurrentDictionary<string, (RedisChannel Channel, Action<RedisChannel, RedisValue> Handler)> _subscriptions = new(StringComparer.Ordinal);
    private readonly object _connectLock = new();
    private Task<IConnectionMultiplexer>? _connecting;
    private bool _ownsMultiplexer;
    private volatile bool _disposed;

    public RedisBackplaneTransport(RedisBackplaneOptions options, Action<string, byte[]?> onMessage)
    {
        _options = options;
        _onMessage = onMessage;
    }

    public event Action? ConnectionLost;

    public async Task SubscribeAsync(string channel)
    {
        IConnectionMultiplexer multiplexer = await ConnectAsync().ConfigureAwait(false);
        ISubscriber subscriber = multiplexer.GetSubscriber();
        (RedisChannel Channel, Action<RedisChannel, RedisValue> Handler) subscription = _subscriptions.GetOrAdd(channel, static (name, self) =>
        {
            Action<string, byte[]?> onMessage = self._onMessage;
            return (new RedisChannel(name, RedisChannel.PatternMode.Literal), (_, value) => onMessage(name, (byte[]?)value));
        }, this);

        // Never two registrations of our handler: a subscription that failed half-way may have registered it.
        await subscriber.UnsubscribeAsync(subscription.Channel, subscription.Handler).ConfigureAwait(false);
        await subscriber.SubscribeAsync(subscription.Channel, subscription.Handler).ConfigureAwait(false);
    }

    public async Task PublishAsync(string channel, byte[] message)
    {
        IConnectionMultiplexer multiplexer = await ConnectAsync().ConfigureAwait(false);
        RedisChannel target = _subscriptions.TryGetValue(channel, out var subscription)
            ? subscription.Channel
            : new RedisChannel(channel, RedisChannel.PatternMode.Literal);
        await multiplexer.GetSubscriber().PublishAsync(target, message).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Task<IConnectionMultiplexer>? connecting;
        lock (_connectLock)
        {
            connecting = _connecting;
        }

        if (connecting is null || !connecting.IsCompletedSuccessfully)
        {
            // Still connecting (or never did): it ends on its own; ConnectCoreAsync disposes an owned one it finishes after this.
            return;
        }

        IConnectionMultiplexer multiplexer = connecting.Result;
        multiplexer.ConnectionFailed -= OnConnectionFailed;
        try
        {
            ISubscriber subscriber = multiplexer.GetSubscriber();
            foreach ((RedisChannel channel, Action<RedisChannel, RedisValue> handler) in _subscriptions.Values)
            {
                await subscriber.UnsubscribeAsync(channel, handler, CommandFlags.FireAndForget).ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (exception is RedisException or ObjectDisposedException)
        {
            // The connection is down or gone: nothing left to unsubscribe from.
        }

        if (_ownsMultiplexer)
        {
            await multiplexer.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
            multiplexer.Dispose();
        }
    }

    private Task<IConnectionMultiplexer> ConnectAsync()
    {
        lock (_connectLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);

            // A failed attempt (the factory threw) is retried by the next call.
            if (_connecting is null || _connecting.IsFaulted || _connecting.IsCanceled)
            {
                _connecting = ConnectCoreAsync();
            }

            return _connecting;
        }
    }

    private async Task<IConnectionMultiplexer> ConnectCoreAsync()
    {
        IConnectionMultiplexer multiplexer;
        if (_options.ConnectionMultiplexer is { } given)
        {
            multiplexer = given;
        }
        else if (_options.ConnectionMultiplexerFactory is { } factory)
        {
            multiplexer = await factory().ConfigureAwait(false)
                ?? throw new InvalidOperationException("RedisBackplaneOptions.ConnectionMultiplexerFactory returned null.");
        }
        else
        {
            ConfigurationOptions configuration = _options.ConfigurationOptions?.Clone()
                ?? ConfigurationOptions.Parse(_options.Configuration ?? throw new InvalidOperationException(RedisBackplaneOptions.NoConnectionMessage));
            configuration.AbortOnConnectFail = false;
            configuration.BacklogPolicy = BacklogPolicy.FailFast;
            multiplexer = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
            _ownsMultiplexer = true;
        }

        multiplexer.ConnectionFailed += OnConnectionFailed;
        if (_disposed && _ownsMultiplexer)
        {
            // Disposed while connecting: nobody else will close this connection.
            multiplexer.Dispose();
            throw new ObjectDisposedException(nameof(RedisBackplaneTransport));
        }

        return multiplexer;
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e) => ConnectionLost?.Invoke();
}
