using System.Runtime.CompilerServices;
using SafeMem.Events;

namespace SafeMem.Demo.Scenarios;

/// <summary>
/// A long-lived publisher's event keeps every subscriber alive, so "closed" windows never die; a weak event source
/// lets them go, and forgets their subscriptions.
/// </summary>
internal sealed class EventsScenario : IScenario
{
    private const int Windows = 2_000;

    private readonly WeakPriceFeed _weakFeed = new();

    public string Key => "events";

    public string Title => "Events: a long-lived publisher's event vs WeakEventSource";

    public void Run(TextWriter output)
    {
        var plainFeed = new PlainPriceFeed();
        List<WeakReference> plainWindows = Heap.Isolated(() => OpenAndCloseWindows(plainFeed));
        output.WriteLine($"  before: plain event        {Heap.CountAlive(plainWindows),5:N0} of {Windows:N0} closed windows still alive (the event's invocation list holds them)");

        WeakPriceFeed weakFeed = _weakFeed;
        List<WeakReference> weakWindows = Heap.Isolated(() => OpenAndCloseWindows(weakFeed));
        int alive = Heap.CountAlive(weakWindows);
        weakFeed.Publish(42m);
        output.WriteLine($"  after:  WeakEventSource    {alive,5:N0} of {Windows:N0} closed windows still alive; live subscriptions now {weakFeed.Subscribers}");

        var open = new PriceWindow(weakFeed);
        weakFeed.Publish(43m);
        output.WriteLine($"          an open window (subscribed with a lambda capturing 'this') still receives prices: last = {open.LastPrice}");
        GC.KeepAlive(plainFeed);
    }

    public void Dispose()
    {
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static List<WeakReference> OpenAndCloseWindows(IPriceFeed feed)
    {
        var windows = new List<WeakReference>(Windows);
        for (int i = 0; i < Windows; i++)
        {
            // The user "closes" each window right away: nothing but the feed refers to it afterwards.
            windows.Add(new WeakReference(new PriceWindow(feed)));
        }

        return windows;
    }

    private interface IPriceFeed
    {
        event EventHandler<PriceChangedEventArgs> PriceChanged;
    }

    private sealed class PriceChangedEventArgs(decimal price) : EventArgs
    {
        public decimal Price { get; } = price;
    }

    private sealed class PlainPriceFeed : IPriceFeed
    {
        public event EventHandler<PriceChangedEventArgs>? PriceChanged;

        public void Publish(decimal price) => PriceChanged?.Invoke(this, new PriceChangedEventArgs(price));
    }

    private sealed class WeakPriceFeed : IPriceFeed
    {
        private readonly WeakEventSource<PriceChangedEventArgs> _priceChanged = new("demo.prices");

        public event EventHandler<PriceChangedEventArgs> PriceChanged
        {
            add => _priceChanged.Add(value!);
            remove => _priceChanged.Remove(value!);
        }

        public int Subscribers => _priceChanged.Count;

        public void Publish(decimal price) => _priceChanged.Raise(this, new PriceChangedEventArgs(price));
    }

    private sealed class PriceWindow
    {
        private readonly byte[] _pixels = new byte[16 * 1024];

        public PriceWindow(IPriceFeed feed)
        {
            // A capturing lambda: its closure object is owned by this window, and lives exactly as long as it does.
            feed.PriceChanged += (_, e) => LastPrice = e.Price + _pixels[0];
        }

        public decimal LastPrice { get; private set; }
    }
}
