using SafeMem.Events;

namespace SafeMem.Demo.DocSnippets;

// The code docs/events.md shows, compiled (checked by tests/SafeMem.Tests/DocsTests.cs). Not run by the demo.
internal static class EventsSnippets
{
    internal sealed class OrderEventArgs(int orderId) : EventArgs
    {
        public int OrderId { get; } = orderId;
    }

    internal sealed class OrderBook
    {
        private readonly AsyncWeakEventSource<OrderEventArgs> _orderPlaced = new("orders");

        public void OnOrderPlaced(Func<object?, OrderEventArgs, Task> handler) => _orderPlaced.Add(handler);

        public Task PlaceAsync(int orderId) => _orderPlaced.RaiseAsync(this, new OrderEventArgs(orderId));
    }

    internal sealed class OrderView
    {
        public OrderView(OrderBook book)
        {
            // Captures 'this': the subscription lives exactly as long as this view.
            book.OnOrderPlaced(async (_, e) => await RefreshAsync(e.OrderId));
        }

        private Task RefreshAsync(int orderId) => Task.CompletedTask;
    }

    internal sealed class Ticker
    {
        private readonly WeakEventSource<EventArgs> _tick = new("ticks");

        public void Subscribe(object owner, Action onTick) =>
            // A lambda that captures no 'this' has no lifetime of its own: name the object it should live as long as.
            _tick.Add(owner, (_, _) => onTick());

        public void Publish() => _tick.Raise(this, EventArgs.Empty);
    }

    internal sealed class PriceEventArgs(decimal price) : EventArgs
    {
        public decimal Price { get; } = price;
    }

    // A publisher that moved its event to WeakEventSource: subscribers only see += and -=.
    internal sealed class Quotes
    {
        private readonly WeakEventSource<PriceEventArgs> _changed = new("quotes");

        public event EventHandler<PriceEventArgs> Changed
        {
            add => _changed.Add(value);
            remove => _changed.Remove(value);
        }
    }

    internal sealed class Portfolio
    {
        public decimal Total { get; private set; }

        public void Follow(Quotes quotes, decimal weight) =>
            // `quotes.Changed += (_, e) => total += weight * e.Price` captures only locals: rejected once the event is weak.
            WeakEventSubscription.Subscribe<Quotes, Portfolio, PriceEventArgs>(
                quotes,
                this,
                static (q, h) => q.Changed += h,
                static (q, h) => q.Changed -= h,
                (portfolio, _, e) => portfolio.Total += weight * e.Price);
    }

    public delegate void PriceHandler(string symbol, decimal price);

    internal sealed class PriceFeed
    {
        public event PriceHandler? PriceChanged;

        public void Publish(string symbol, decimal price) => PriceChanged?.Invoke(symbol, price);
    }

    internal sealed class PriceBoard
    {
        private readonly IDisposable _subscription;

        public PriceBoard(PriceFeed feed)
        {
            _subscription = WeakEventSubscription.Subscribe<PriceFeed, PriceBoard, PriceHandler>(
                feed,
                this,
                static (source, handler) => source.PriceChanged += handler,
                static (source, handler) => source.PriceChanged -= handler,
                static weak => (symbol, price) => weak.Target?.OnPrice(symbol, price));
        }

        public void Close() => _subscription.Dispose();

        private void OnPrice(string symbol, decimal price)
        {
        }
    }

    public static void Static(WeakEventSource<EventArgs> source)
    {
        // Static handlers are held strongly until removed: they have no instance to die with.
        source.Add(OnAnyTick);
        source.Remove(OnAnyTick);
    }

    private static void OnAnyTick(object? sender, EventArgs e)
    {
    }
}
