using System.Collections.ObjectModel;
using System.Collections.Specialized;
using System.ComponentModel;
using CommunityToolkit.Mvvm.ComponentModel;
using CommunityToolkit.Mvvm.Input;
using SafeMem.Events;

namespace SafeMem.Tests.Events.Mvvm;

/// <summary>
/// A long-lived service as an MVVM app registers it (a singleton): an <see cref="ObservableObject"/> with a command
/// and a collection, and a price event backed by a <see cref="WeakEventSource{TEventArgs}"/> that delivers on the
/// subscriber's UI context.
/// </summary>
public sealed class MarketService : ObservableObject
{
    private readonly WeakEventSource<PriceChangedEventArgs> _priceChanged = new(new WeakEventSourceOptions
    {
        Name = "market-prices",
        CaptureSynchronizationContext = true,
    });

    private decimal _price;
    private bool _isOpen = true;

    public MarketService()
    {
        RefreshCommand = new RelayCommand(static () => { }, () => IsOpen);
    }

    /// <summary>Raised on the raising thread, or posted to the UI context a subscriber subscribed on.</summary>
    public event EventHandler<PriceChangedEventArgs> PriceChanged
    {
        add => _priceChanged.Add(value);
        remove => _priceChanged.Remove(value);
    }

    public decimal Price
    {
        get => _price;
        set => SetProperty(ref _price, value);
    }

    public bool IsOpen
    {
        get => _isOpen;
        set
        {
            if (SetProperty(ref _isOpen, value))
            {
                RefreshCommand.NotifyCanExecuteChanged();
            }
        }
    }

    public RelayCommand RefreshCommand { get; }

    public ObservableCollection<string> Symbols { get; } = [];

    public int PriceSubscriptions => _priceChanged.Count;

    public void PublishPrice(decimal price) => _priceChanged.Raise(this, new PriceChangedEventArgs(price));
}

/// <summary>
/// A short-lived view model (one per screen, list item or dialog) that follows the service through weak subscriptions
/// and so never needs to be told to unsubscribe.
/// </summary>
public sealed class QuoteViewModel : ObservableObject, IDisposable
{
    private readonly List<IDisposable> _subscriptions = [];
    private decimal _lastPrice;
    private bool _canRefresh = true;

    public QuoteViewModel(MarketService service)
    {
        BuyCommand = new RelayCommand(() => Bought++, () => CanRefresh);

        // PropertyChanged and CollectionChanged subscribed with their own delegate types, no conversion needed.
        _subscriptions.Add(WeakEventSubscription.Subscribe<MarketService, QuoteViewModel, PropertyChangedEventHandler>(
            service,
            this,
            static (s, h) => s.PropertyChanged += h,
            static (s, h) => s.PropertyChanged -= h,
            static weak => (sender, e) => weak.Target?.OnServiceChanged((MarketService)sender!, e.PropertyName)));
        _subscriptions.Add(WeakEventSubscription.Subscribe<ObservableCollection<string>, QuoteViewModel, NotifyCollectionChangedEventHandler>(
            service.Symbols,
            this,
            static (c, h) => c.CollectionChanged += h,
            static (c, h) => c.CollectionChanged -= h,
            static weak => (_, e) => weak.Target?.OnSymbolsChanged(e)));
        _subscriptions.Add(WeakEventSubscription.SubscribeCanExecuteChanged(
            service.RefreshCommand,
            this,
            static (vm, sender, _) => vm.CanRefresh = ((RelayCommand)sender!).CanExecute(null)));
    }

    public decimal LastPrice
    {
        get => _lastPrice;
        private set => SetProperty(ref _lastPrice, value);
    }

    public bool CanRefresh
    {
        get => _canRefresh;
        private set
        {
            if (SetProperty(ref _canRefresh, value))
            {
                BuyCommand.NotifyCanExecuteChanged();
            }
        }
    }

    public RelayCommand BuyCommand { get; }

    public int Bought { get; private set; }

    public List<string> SymbolChanges { get; } = [];

    public void Dispose() => _subscriptions.ForEach(static s => s.Dispose());

    private void OnServiceChanged(MarketService service, string? propertyName)
    {
        if (propertyName == nameof(MarketService.Price))
        {
            LastPrice = service.Price;
        }
    }

    private void OnSymbolsChanged(NotifyCollectionChangedEventArgs e)
        => SymbolChanges.Add($"{e.Action}:{string.Join(",", e.NewItems?.Cast<string>() ?? [])}");
}

/// <summary>The control: the same view model subscribed with plain <c>+=</c>, as most apps write it. It leaks.</summary>
public sealed class LeakyQuoteViewModel : ObservableObject
{
    public LeakyQuoteViewModel(MarketService service)
    {
        // The control leaks on purpose (SM1002 is right about it).
#pragma warning disable SM1002
        service.PropertyChanged += OnServiceChanged;
        service.Symbols.CollectionChanged += OnSymbolsChanged;
        service.RefreshCommand.CanExecuteChanged += OnCanExecuteChanged;
#pragma warning restore SM1002
    }

    public int Notifications { get; private set; }

    private void OnServiceChanged(object? sender, PropertyChangedEventArgs e) => Notifications++;

    private void OnSymbolsChanged(object? sender, NotifyCollectionChangedEventArgs e) => Notifications++;

    private void OnCanExecuteChanged(object? sender, EventArgs e) => Notifications++;
}

/// <summary>
/// A view model that takes prices on its UI thread: from the service's context-capturing event, and from the
/// service's PropertyChanged (raised on a worker thread) by posting to the context it was created on.
/// </summary>
public sealed class TickerViewModel : ObservableObject
{
    private readonly SynchronizationContext _ui;

    public TickerViewModel(MarketService service)
    {
        _ui = SynchronizationContext.Current ?? throw new InvalidOperationException("Create view models on the UI thread.");

        // Publisher side: the service's WeakEventSource posts this handler to the context current here.
        service.PriceChanged += OnPriceChanged;

        // Subscriber side: a weak PropertyChanged subscription whose handler marshals to the UI context itself.
        WeakEventSubscription.Subscribe<MarketService, TickerViewModel, PropertyChangedEventHandler>(
            service,
            this,
            static (s, h) => s.PropertyChanged += h,
            static (s, h) => s.PropertyChanged -= h,
            static weak => (sender, e) => weak.Target?.PostPropertyChange(e.PropertyName));
    }

    public List<(decimal Price, int ThreadId)> Prices { get; } = [];

    public List<(string? Property, int ThreadId)> ServiceChanges { get; } = [];

    private void OnPriceChanged(object? sender, PriceChangedEventArgs e)
        => Prices.Add((e.Price, Environment.CurrentManagedThreadId));

    private void PostPropertyChange(string? propertyName)
        => _ui.Post(
            static state =>
            {
                (TickerViewModel viewModel, string? name) = ((TickerViewModel, string?))state!;
                viewModel.ServiceChanges.Add((name, Environment.CurrentManagedThreadId));
            },
            (this, propertyName));
}
