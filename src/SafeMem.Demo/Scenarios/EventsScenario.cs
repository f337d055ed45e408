using System.Globalization;
using SafeMem.Demo.Lab;
using SafeMem.Events;

namespace SafeMem.Demo.Scenarios;

/// <summary>
/// A long-lived price feed and short-lived windows that subscribe to it and are closed without unsubscribing: the
/// plain event keeps every closed window alive (and keeps calling it); a <see cref="WeakEventSource{TEventArgs}"/>
/// lets them go and forgets their subscriptions, while open windows keep receiving every price.
/// </summary>
internal sealed class EventsScenario : Scenario
{
    private const int WindowsPerStep = 5;
    private const int StepsOpen = 10;
    private const int WindowBytes = 32 * 1024;

    public override string Key => "events";

    public override string Title => "Events";

    public override string NaiveLabel => "plain event on a long-lived feed";

    public override string SafeMemLabel => "WeakEventSource";

    public override string Story =>
        $"Each step the feed publishes a price, the user closes the windows opened {StepsOpen} steps ago and opens {WindowsPerStep} new ones " +
        $"({WindowBytes / 1024} KB each) that subscribe with a lambda capturing 'this'. Nobody unsubscribes: with a plain event every closed window " +
        $"stays reachable from the feed; with WeakEventSource only the {WindowsPerStep * StepsOpen} open ones are.";

    public override IReadOnlyList<CounterChart> Charts { get; } =
    [
        new("live subscriptions", "safemem.event.subscription.count", NaiveKey: "subscriptions"),
        new("subscriptions reclaimed (window collected)", "safemem.event.reclamations"),
        new("handler runs on closed windows", "closedRuns", NaiveKey: "closedRuns"),
    ];

    public override Variant Create(VariantKind kind) =>
        kind == VariantKind.Naive ? new Service(new PlainFeed()) : new Service(new WeakFeed());

    private interface IPriceFeed
    {
        event EventHandler<PriceChangedEventArgs> PriceChanged;

        int Subscriptions { get; }

        void Publish(decimal price);
    }

    private sealed class PriceChangedEventArgs(decimal price) : EventArgs
    {
        public decimal Price { get; } = price;
    }

    private sealed class PlainFeed : IPriceFeed
    {
        public event EventHandler<PriceChangedEventArgs>? PriceChanged;

        public int Subscriptions => PriceChanged?.GetInvocationList().Length ?? 0;

        public void Publish(decimal price) => PriceChanged?.Invoke(this, new PriceChangedEventArgs(price));
    }

    private sealed class WeakFeed : IPriceFeed
    {
        private readonly WeakEventSource<PriceChangedEventArgs> _priceChanged = new(LabNames.Prefix + "prices");

        public event EventHandler<PriceChangedEventArgs> PriceChanged
        {
            add => _priceChanged.Add(value!);
            remove => _priceChanged.Remove(value!);
        }

        // Read by the lab through telemetry; this property only serves the shared interface.
        public int Subscriptions => _priceChanged.Count;

        public void Publish(decimal price) => _priceChanged.Raise(this, new PriceChangedEventArgs(price));
    }

    /// <summary>Counts what windows see; owned by the service, so it lives as long as the run.</summary>
    private sealed class Tally
    {
        public long Published;
        public long ClosedRuns;
        public long WindowsChecked;
        public long WindowsShort;
    }

    private sealed class PriceWindow
    {
        private readonly byte[] _pixels = new byte[WindowBytes];
        private readonly Tally _tally;
        private readonly long _openedAt;
        private bool _closed;
        private long _received;

        public PriceWindow(IPriceFeed feed, Tally tally)
        {
            _tally = tally;
            _openedAt = tally.Published;

            // A capturing lambda: it lives exactly as long as this window, which WeakEventSource takes as its owner.
            // In the naive variant this is the leak the scenario shows (SM1002 is right); the SafeMem variant's feed is weak.
#pragma warning disable SM1002
            feed.PriceChanged += (_, e) => OnPrice(e.Price);
#pragma warning restore SM1002
        }

        public void Close()
        {
            _closed = true;
            _tally.WindowsChecked++;
            if (_received != _tally.Published - _openedAt)
            {
                _tally.WindowsShort++;
            }
        }

        private void OnPrice(decimal price)
        {
            // Touch the window's pixels, as a redraw would.
            _pixels[0] = (byte)((int)price & 0xFF);
            if (_closed)
            {
                _tally.ClosedRuns++;
            }
            else
            {
                _received++;
            }
        }
    }

    private sealed class Service(IPriceFeed feed) : Variant
    {
        private readonly Queue<PriceWindow[]> _open = new();
        private readonly Tally _tally = new();

        public override void Step(int step)
        {
            feed.Publish(100m + step);
            _tally.Published++;

            if (_open.Count == StepsOpen)
            {
                foreach (PriceWindow window in _open.Dequeue())
                {
                    window.Close();
                }
            }

            var opened = new PriceWindow[WindowsPerStep];
            for (int i = 0; i < opened.Length; i++)
            {
                opened[i] = new PriceWindow(feed, _tally);
            }

            _open.Enqueue(opened);
        }

        public override void Observe(IDictionary<string, double> figures)
        {
            figures["closedRuns"] = _tally.ClosedRuns;
            if (feed is PlainFeed)
            {
                figures["subscriptions"] = feed.Subscriptions;
            }
        }

        public override IEnumerable<string> Conclude(Sample first, Sample last)
        {
            string name = feed is PlainFeed ? "Plain event" : "WeakEventSource";
            string subscriptions = feed is PlainFeed
                ? Format.Count(last.Value("subscriptions") ?? 0)
                : Format.Count(last.Value("safemem.event.subscription.count") ?? 0);
            yield return string.Create(CultureInfo.InvariantCulture,
                $"{name}: {subscriptions} live subscriptions at the end, for {_open.Sum(w => w.Length)} open windows; handlers ran {_tally.ClosedRuns:N0} times on closed windows.");
            yield return _tally.WindowsShort == 0
                ? $"Every closed window had received every price published while it was open ({_tally.WindowsChecked:N0} windows checked)."
                : $"{_tally.WindowsShort:N0} of {_tally.WindowsChecked:N0} windows missed a price published while they were open.";
        }
    }
}
