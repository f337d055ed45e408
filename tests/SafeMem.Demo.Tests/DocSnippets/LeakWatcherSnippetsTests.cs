using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
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
        var logged = new List<string>();
        var collection = new ServiceCollection().AddLogging(logging => logging.AddProvider(new ListLoggerProvider(logged)));
        collection.AddScoped<Cart>();
        LeakWatcherSnippets.Register(collection);
        using ServiceProvider services = collection.BuildServiceProvider();
        LeakWatcherSnippets.LogRetained(services);
        try
        {
            ResolveAndKeep(services);
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (Count(logged) == 0 && DateTime.UtcNow < deadline)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                Thread.Sleep(20);
            }

            string entry;
            lock (logged)
            {
                entry = Assert.Single(logged);
            }

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

    private static int Count(List<string> logged)
    {
        lock (logged)
        {
            return logged.Count;
        }
    }

    public sealed class Cart;

    private sealed class ListLoggerProvider(List<string> entries) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new ListLogger(categoryName, entries);

        public void Dispose()
        {
        }

        private sealed class ListLogger(string category, List<string> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (entries)
                {
                    entries.Add($"{logLevel} {category}: {formatter(state, exception)}");
                }
            }
        }
    }
}
