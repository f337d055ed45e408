using System.Runtime.CompilerServices;
using SafeMem.Events;

namespace SafeMem.Tests.Events;

/// <summary>Event data used by the events tests.</summary>
public sealed class PriceChangedEventArgs(decimal price) : EventArgs
{
    public decimal Price { get; } = price;
}

/// <summary>A publisher with a plain .NET event: the leaking baseline every GC test's control uses.</summary>
public sealed class PlainPublisher
{
    public event EventHandler<PriceChangedEventArgs>? PriceChanged;

    public int HandlerCount => PriceChanged?.GetInvocationList().Length ?? 0;

    public void Raise(decimal price) => PriceChanged?.Invoke(this, new PriceChangedEventArgs(price));
}

/// <summary>A subscriber that counts what it receives, subscribing in each of the ways the tests exercise.</summary>
public sealed class PriceSubscriber
{
    private int _received;

    public int Received => Volatile.Read(ref _received);

    public decimal LastPrice { get; private set; }

    public void OnPriceChanged(object? sender, PriceChangedEventArgs e)
    {
        LastPrice = e.Price;
        Interlocked.Increment(ref _received);
    }

    public Task OnPriceChangedAsync(object? sender, PriceChangedEventArgs e)
    {
        OnPriceChanged(sender, e);
        return Task.CompletedTask;
    }

    /// <summary>Subscribes a lambda that captures a local and <c>this</c>, so its target is a compiler-generated closure.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public void SubscribeCapturingLambda(WeakEventSource<PriceChangedEventArgs> source)
    {
        int increment = 1;
        source.Add((_, e) =>
        {
            LastPrice = e.Price;
            Interlocked.Add(ref _received, increment);
        });
    }

    /// <summary>Subscribes a lambda whose closure captures <c>this</c> only through a parent closure.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public void SubscribeNestedCapturingLambda(WeakEventSource<PriceChangedEventArgs> source)
    {
        int outer = 1;
        Action subscribe = () =>
        {
            int inner = 0;
            source.Add((_, _) => Interlocked.Add(ref _received, outer + inner));
        };
        subscribe();
    }
}

/// <summary>
/// A publisher that moved its event to <see cref="WeakEventSource{TEventArgs}"/>: subscribers only see the event's
/// <c>+=</c> and <c>-=</c>.
/// </summary>
public sealed class WeakBackedPublisher
{
    private readonly WeakEventSource<PriceChangedEventArgs> _priceChanged = new("weak-backed");

    public event EventHandler<PriceChangedEventArgs> PriceChanged
    {
        add => _priceChanged.Add(value);
        remove => _priceChanged.Remove(value);
    }

    public int HandlerCount => _priceChanged.Count;

    public void Raise(decimal price) => _priceChanged.Raise(this, new PriceChangedEventArgs(price));
}

/// <summary>A value type with event handlers: a delegate to one of its methods targets a box of its own.</summary>
public struct StructCounter
{
    public int Calls;

    public void OnPriceChanged(object? sender, PriceChangedEventArgs e) => Calls++;

    public Task OnPriceChangedAsync(object? sender, PriceChangedEventArgs e)
    {
        Calls++;
        return Task.CompletedTask;
    }
}

/// <summary>A user's own event delegate type, not an <see cref="EventHandler{TEventArgs}"/>.</summary>
public delegate void PriceHandler(string symbol, decimal price);

/// <summary>A publisher with an event of a user-defined delegate type (the leaking baseline for those).</summary>
public sealed class PriceFeed
{
    public event PriceHandler? PriceChanged;

    public int HandlerCount => PriceChanged?.GetInvocationList().Length ?? 0;

    public void Raise(string symbol, decimal price) => PriceChanged?.Invoke(symbol, price);
}

/// <summary>A subscriber to <see cref="PriceFeed"/>.</summary>
public sealed class PriceBoard
{
    public List<(string Symbol, decimal Price)> Quotes { get; } = [];

    public void OnPrice(string symbol, decimal price) => Quotes.Add((symbol, price));
}
