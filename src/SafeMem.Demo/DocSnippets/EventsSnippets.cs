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
