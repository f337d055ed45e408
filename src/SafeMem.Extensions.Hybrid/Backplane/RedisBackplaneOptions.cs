using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using SafeMem.Telemetry;
using StackExchange.Redis;

namespace SafeMem.Extensions.Backplane;

/// <summary>
/// Options for <see cref="RedisBackplane"/>: where its Redis is (one of <see cref="ConnectionMultiplexer"/>,
/// <see cref="ConnectionMultiplexerFactory"/>, <see cref="ConfigurationOptions"/> or <see cref="Configuration"/>, the
/// first set of these wins), the channel prefix that separates applications sharing one Redis, and what a node does
/// while it cannot hear the others.
/// </summary>
/// <remarks>
/// Setters reject values that can never be valid; a backplane built without any connection source throws. The
/// backplane reads the options once, when it is built. They hold the connection objects, time provider and meter
/// factory strongly and own none of them. Not safe for concurrent mutation: configure them on one thread, then share them.
/// </remarks>
public sealed class RedisBackplaneOptions : IOptions<RedisBackplaneOptions>
{
    internal const string NoConnectionMessage =
        "The Redis backplane has no connection: set RedisBackplaneOptions.Configuration, ConfigurationOptions, ConnectionMultiplexer or ConnectionMultiplexerFactory.";

    private string _channelPrefix = "";
    private TimeSpan _probeInterval = TimeSpan.FromSeconds(1);
    private TimeSpan _disconnectedLocalCacheExpiration = TimeSpan.FromSeconds(5);
    private int _maximumPendingChanges = 10_000;
    private TimeProvider _timeProvider = TimeProvider.System;
    private string? _name;

    /// <summary>Gets or sets a StackExchange.Redis configuration string (<c>"host:6379,password=..."</c>) for a connection the backplane opens and owns.</summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public string? Configuration { get; set; }

    /// <summary>
    /// Gets or sets StackExchange.Redis configuration options for a connection the backplane opens and owns (it works on
    /// a copy, with <see cref="StackExchange.Redis.ConfigurationOptions.AbortOnConnectFail"/> off and
    /// <see cref="BacklogPolicy.FailFast"/>). Wins over <see cref="Configuration"/>.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public ConfigurationOptions? ConfigurationOptions { get; set; }

    /// <summary>
    /// Gets or sets an existing connection, for instance the one the application's distributed cache uses. The backplane
    /// subscribes on it and never closes it. Configure it with <c>AbortOnConnectFail = false</c> (so the application
    /// starts without Redis) and, ideally, <see cref="BacklogPolicy.FailFast"/>. Wins over every other source.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public IConnectionMultiplexer? ConnectionMultiplexer { get; set; }

    /// <summary>
    /// Gets or sets a factory of the connection, called once, when the backplane first connects (after start-up, never
    /// on a request), again if it threw. As with <see cref="ConnectionMultiplexer"/>, the backplane never closes it.
    /// Wins over the configuration properties.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public Func<Task<IConnectionMultiplexer>>? ConnectionMultiplexerFactory { get; set; }

    /// <summary>
    /// Gets or sets the prefix of the backplane's channel names (<c>prefix + "safemem-backplane"</c>, and one probe channel
    /// per node). Nodes hear each other only with the same prefix: give each application that shares a Redis its own,
    /// as with the distributed cache's <c>InstanceName</c>.
    /// </summary>
    /// <value>Not null; defaults to empty.</value>
    /// <exception cref="ArgumentNullException">The value is null.</exception>
    public string ChannelPrefix
    {
        get => _channelPrefix;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            _channelPrefix = value;
        }
    }

    /// <summary>
    /// Gets or sets how often the node checks that it hears Redis: it publishes a probe to itself, through Redis. A node
    /// that has not heard its probe for three intervals (or whose connection reports a failure) is disconnected.
    /// </summary>
    /// <value>At least 50 ms; defaults to 1 s.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 50 ms.</exception>
    public TimeSpan ProbeInterval
    {
        get => _probeInterval;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.FromMilliseconds(50));
            _probeInterval = value;
        }
    }

    /// <summary>
    /// Gets or sets how long a disconnected node may keep serving its local-cache entries: from the last moment it is
    /// known to have heard the other nodes, every period of this length it drops its whole local cache, so no entry it
    /// serves can have missed an invalidation for longer. Requests are never slowed: entries dropped are read again
    /// from the distributed cache or made again by their factory.
    /// </summary>
    /// <value>
    /// Greater than zero; defaults to 5 s. A long value keeps entries until HybridCache's own <c>LocalCacheExpiration</c>,
    /// as without a backplane; a short one bounds staleness during a Redis outage at the price of more factory runs.
    /// </value>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public TimeSpan DisconnectedLocalCacheExpiration
    {
        get => _disconnectedLocalCacheExpiration;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero);
            _disconnectedLocalCacheExpiration = value;
        }
    }

    /// <summary>
    /// Gets or sets how many changes the node keeps while it cannot announce them (messages waiting to be sent, and
    /// changes to repeat on recovery because Redis refused them). Past it, a change is dropped (counted), and on recovery
    /// the node tells every other node to drop its whole local cache instead.
    /// </summary>
    /// <value>At least 1; defaults to 10,000.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int MaximumPendingChanges
    {
        get => _maximumPendingChanges;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _maximumPendingChanges = value;
        }
    }

    /// <summary>Gets or sets the backplane's name: the <c>safemem.name</c> tag of its measurements.</summary>
    /// <value>
    /// Not empty or white space, or <see langword="null"/> (the default) for a generated unique name
    /// (<c>backplane-1</c>, <c>backplane-2</c>, ...).
    /// </value>
    /// <exception cref="ArgumentException">The value is empty or white space.</exception>
    public string? Name
    {
        get => _name;
        set => _name = InstanceNames.CheckOption(value);
    }

    /// <summary>
    /// Gets or sets the factory of the meter the backplane publishes its <c>safemem.backplane.*</c> instruments on;
    /// <c>AddSafeMemRedisBackplane</c> uses the container's when this is left null.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: the shared <c>SafeMem</c> meter.</value>
    public IMeterFactory? MeterFactory { get; set; }

    /// <summary>Gets or sets the clock of the probes and of <see cref="DisconnectedLocalCacheExpiration"/>.</summary>
    /// <value>Defaults to <see cref="TimeProvider.System"/>.</value>
    /// <exception cref="ArgumentNullException">The value is null.</exception>
    public TimeProvider TimeProvider
    {
        get => _timeProvider;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            _timeProvider = value;
        }
    }

    /// <inheritdoc/>
    RedisBackplaneOptions IOptions<RedisBackplaneOptions>.Value => this;

    /// <summary>Whether any connection source is set.</summary>
    internal bool HasConnection
        => ConnectionMultiplexer is not null || ConnectionMultiplexerFactory is not null || ConfigurationOptions is not null || Configuration is not null;

    /// <summary>For tests: the transport to use instead of Redis (given the backplane's message handler).</summary>
    internal Func<Action<string, byte[]?>, IBackplaneTransport>? TransportFactory { get; set; }

    /// <summary>For tests: no probe loop; the test calls <see cref="RedisBackplane.Tick"/> itself.</summary>
    internal bool ManualProbes { get; set; }
}
