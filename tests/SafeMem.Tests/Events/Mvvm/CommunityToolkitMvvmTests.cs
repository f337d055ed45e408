using System.Runtime.CompilerServices;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Events.Mvvm;

/// <summary>
/// Weak events in view-model code built on CommunityToolkit.Mvvm, as .NET UI apps write it: short-lived view models
/// follow a long-lived service's <c>PropertyChanged</c>, <c>CanExecuteChanged</c> and <c>CollectionChanged</c>, and
/// are collected when the app drops them, without unsubscribing.
/// </summary>
public sealed class CommunityToolkitMvvmTests
{
    [Fact]
    public void ViewModels_SubscribedWeakly_FollowTheServiceAndAreCollectedWhileItLives()
    {
        var service = new MarketService();
        WeakReference[] viewModels = OpenAndCloseScreens(service, 20);

        GcAssert.Collected(viewModels);

        // The service keeps working; the dead subscriptions detach as it raises (or in the sweep after a collection).
        service.Price = 42m;
        service.IsOpen = false;
        service.Symbols.Add("LATE");
        Assert.Equal(42m, service.Price);
    }

    [Fact]
    public void ViewModels_SubscribedWithPlusEquals_SameScenario_AreKeptAliveByTheService()
    {
        // Control: the same screens subscribed with plain += leak, so the test above can fail.
        var service = new MarketService();
        WeakReference viewModel = OpenLeakyScreen(service);

        GcAssert.Alive(viewModel);
        GC.KeepAlive(service);
    }

    [Fact]
    public void ViewModel_AliveAcrossCollections_ReceivesEveryKindOfNotification()
    {
        var service = new MarketService();
        var viewModel = new QuoteViewModel(service);
        GcAssert.FullCollect();
        GcAssert.FullCollect();

        service.Price = 12.5m;
        service.IsOpen = false;
        service.Symbols.Add("ACME");

        Assert.Equal(12.5m, viewModel.LastPrice);
        Assert.False(viewModel.CanRefresh);
        Assert.False(viewModel.BuyCommand.CanExecute(null));
        Assert.Equal(["Add:ACME"], viewModel.SymbolChanges);
        GC.KeepAlive(viewModel);
    }

    [Fact]
    public void ViewModel_Disposed_StopsFollowingTheService()
    {
        var service = new MarketService();
        var viewModel = new QuoteViewModel(service);
        service.Price = 1m;

        viewModel.Dispose();
        service.Price = 2m;
        service.IsOpen = false;
        service.Symbols.Add("ACME");

        Assert.Equal(1m, viewModel.LastPrice);
        Assert.True(viewModel.CanRefresh);
        Assert.Empty(viewModel.SymbolChanges);
    }

    [Fact]
    public async Task ServiceRaisingOnAWorkerThread_HandlersRunOnTheUiThread()
    {
        using var ui = new UiDispatcherThread();
        var service = new MarketService();
        TickerViewModel viewModel = ui.Invoke(() => new TickerViewModel(service));

        await Task.Run(() =>
        {
            service.PublishPrice(7m);
            service.Price = 8m;
        }).WaitAsync(TimeSpan.FromSeconds(10));
        ui.Drain();

        List<(decimal Price, int ThreadId)> prices = ui.Invoke(() => viewModel.Prices.ToList());
        List<(string? Property, int ThreadId)> changes = ui.Invoke(() => viewModel.ServiceChanges.ToList());
        Assert.Equal([(7m, ui.ManagedThreadId)], prices);
        Assert.Equal([(nameof(MarketService.Price), ui.ManagedThreadId)], changes);
        GC.KeepAlive(viewModel);
    }

    [Fact]
    public void ViewModelsCreatedOnTheUiThread_AreCollectedAfterTheScreenCloses()
    {
        using var ui = new UiDispatcherThread();
        var service = new MarketService();
        WeakReference viewModel = ui.Invoke(() => OpenTicker(service));
        service.PublishPrice(1m);
        ui.Drain();

        GcAssert.Collected(viewModel);

        // The publisher-side weak event purges it as well.
        Assert.True(SpinWait.SpinUntil(
            () =>
            {
                GcAssert.FullCollect();
                return service.PriceSubscriptions == 0;
            },
            TimeSpan.FromSeconds(10)));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference[] OpenAndCloseScreens(MarketService service, int count)
    {
        var references = new WeakReference[count];
        for (int i = 0; i < count; i++)
        {
            var viewModel = new QuoteViewModel(service);
            service.Price = i + 1;
            service.Symbols.Add("S" + i);
            service.IsOpen = i % 2 == 0;
            Assert.Equal(i + 1, viewModel.LastPrice);
            Assert.Equal(i % 2 == 0, viewModel.CanRefresh);
            Assert.Equal(["Add:S" + i], viewModel.SymbolChanges);
            references[i] = new WeakReference(viewModel);
        }

        return references;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference OpenLeakyScreen(MarketService service)
    {
        var viewModel = new LeakyQuoteViewModel(service);
        service.Price = 1m;
        service.Symbols.Add("ACME");
        service.IsOpen = false;
        Assert.Equal(4, viewModel.Notifications);
        return new WeakReference(viewModel);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference OpenTicker(MarketService service) => new(new TickerViewModel(service));
}
