using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using SafeMem.Demo.DocSnippets;

namespace SafeMem.Demo.Tests.DocSnippets;

/// <summary>docs/leak-watcher.md's snippets, run: a watched window, and a retained scoped service in the application's log.</summary>
public sealed class LeakWatcherSnippetsTests
{
    private static readonly List<object> s_heldByMistake = [];

    [Fact]
    public void CloseWindow_WatchesTheClosedWindow()
    {
        var window = new LeakWatcherSnippets.OrdersWindow();

        LeakWatcherSnippets.CloseWindow(window);

        Assert.True(LeakWatcherSnippets.Leaks.IsWatched(window));
    }

    [Fact]
    public void LogRetained_AScopedServiceKeptPastItsScope_IsLogged()
    {
        var logged = new FakeLogCollector();
        var collection = new ServiceCollection().AddLogging(logging => logging.AddProvider(new FakeLoggerProvider(logged)));
        collection.AddScoped<Cart>();
        LeakWatcherSnippets.Register(collection);
        using ServiceProvider services = collection.BuildServiceProvider();
        LeakWatcherSnippets.LogRetained(services);
        try
        {
            ResolveAndKeep(services);
            string entry = LeakLog.SingleAfterCollections(logged, TimeSpan.FromSeconds(20));

            Assert.StartsWith(
                "Warning SafeMem.Leaks: Retained: a SafeMem.Demo.Tests.DocSnippets.LeakWatcherSnippetsTests.Cart (scoped service SafeMem.Demo.Tests.DocSnippets.LeakWatcherSnippetsTests.Cart, resolved in a scope that was disposed) is still alive ",
                entry,
                StringComparison.Ordinal);
        }
        finally
        {
            s_heldByMistake.Clear();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ResolveAndKeep(IServiceProvider services)
    {
        using IServiceScope scope = services.CreateScope();
        s_heldByMistake.Add(scope.ServiceProvider.GetRequiredService<Cart>());
    }

    public sealed class Cart;
}
