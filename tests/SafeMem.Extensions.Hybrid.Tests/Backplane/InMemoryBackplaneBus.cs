using System.Collections.Concurrent;
using SafeMem.Extensions.Backplane;

namespace SafeMem.Extensions.Hybrid.Tests.Backplane;

/// <summary>
/// Redis pub/sub in one process, for unit tests of the backplane: channels by name, messages delivered synchronously
/// on the publisher's thread to every subscriber of the channel (the publisher included, as Redis does), and a switch
/// per node that cuts it off (its publishes fail and nothing reaches it), or the whole bus.
/// </summary>
internal sealed class InMemoryBackplaneBus
{
    private readonly ConcurrentDictionary<Transport, byte> _transports = new();

    /// <summary>When true, every publish fails and nothing is delivered (Redis down).</summary>
    public bool IsDown { get; set; }

    /// <summary>Transports connected and not disposed.</summary>
    public int Connected => _transports.Count;

    /// <summary>Every message published on the bus, in order (channel, bytes).</summary>
    public ConcurrentQueue<(string Channel, byte[] Message)> Published { get; } = new();

    /// <summary>The transport factory a backplane's options take.</summary>
    public IBackplaneTransport Connect(Action<string, byte[]?> onMessage)
    {
        var transport = new Transport(this, onMessage);
        _transports[transport] = 0;
        return transport;
    }

    /// <summary>Delivers raw bytes on <paramref name="channel"/> to its subscribers, as if a stranger had published them.</summary>
    public void Inject(string channel, byte[]? message)
    {
        foreach (Transport transport in _transports.Keys)
        {
            transport.Deliver(channel, message);
        }
    }

    internal sealed class Transport(InMemoryBackplaneBus bus, Action<string, byte[]?> onMessage) : IBackplaneTransport
    {
        private readonly ConcurrentDictionary<string, byte> _channels = new(StringComparer.Ordinal);

        public event Action? ConnectionLost;

        /// <summary>When true, this node is cut off: its publishes fail and nothing reaches it.</summary>
        public bool IsCutOff { get; set; }

        public int Subscriptions => _channels.Count;

        public Task SubscribeAsync(string channel)
        {
            if (bus.IsDown || IsCutOff)
            {
                return Task.FromException(new InvalidOperationException("The bus is down."));
            }

            _channels[channel] = 0;
            return Task.CompletedTask;
        }

        public Task PublishAsync(string channel, byte[] message)
        {
            if (bus.IsDown || IsCutOff)
            {
                return Task.FromException(new InvalidOperationException("The bus is down."));
            }

            bus.Published.Enqueue((channel, message));
            foreach (Transport transport in bus._transports.Keys)
            {
                transport.Deliver(channel, message);
            }

            return Task.CompletedTask;
        }

        public void RaiseConnectionLost() => ConnectionLost?.Invoke();

        public ValueTask DisposeAsync()
        {
            bus._transports.TryRemove(this, out _);
            return default;
        }

        internal void Deliver(string channel, byte[]? message)
        {
            if (!bus.IsDown && !IsCutOff && _channels.ContainsKey(channel))
            {
                onMessage(channel, message);
            }
        }
    }
}
