using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SafeMem.Diagnostics;
using SafeMem.Disposal;

namespace SafeMem.Demo.DocSnippets;

// The code docs/leak-watcher.md shows, compiled (checked by tests/SafeMem.Tests/DocsTests.cs).
// tests/SafeMem.Demo.Tests/DocSnippets/LeakWatcherSnippetsTests.cs runs the hand-written watch and the logging.
internal static partial class LeakWatcherSnippets
{
    private static readonly LeakWatcher s_leaks = new("app");

    internal static LeakWatcher Leaks => s_leaks;

    public static void Register(IServiceCollection services)
    {
        services.AddSafeMemLeakWatcher(options =>
        {
            options.Name = "app";
            options.WatchScopedServices = true;
        });
    }

    public static void CloseWindow(OrdersWindow window)
    {
        window.Dispose();
        s_leaks.Watch(window, "closed window 'Orders'");
    }

    public static LeakTracker TrackerThatHandsOff(LeakWatcher watcher)
    {
        var connections = new LeakTracker("connections", new LeakTrackerOptions { LeakWatcher = watcher, SamplingRate = 0.01 });
        return connections;
    }

    public static void LogRetained(IServiceProvider services)
    {
        var watcher = services.GetRequiredService<LeakWatcher>();
        ILogger logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("SafeMem.Leaks");
        watcher.Retained += (_, retained) => LogRetained(logger, retained.TypeName, retained.Description, retained.Age, retained.Collections);
        watcher.AnalysisCompleted += (_, analysis) => LogAnalysis(logger, analysis.RetainedCount, analysis.Leaks.Count, analysis.ToString());
    }

    public static void AnalyzeEndpoint(WebApplication app)
    {
        app.MapPost("/debug/leaks", async (LeakWatcher watcher, CancellationToken aborted) =>
        {
            LeakAnalysis analysis = await watcher.AnalyzeAsync(aborted);
            return Results.Text(analysis.ToString());
        }).RequireAuthorization("operators");
    }

    public static void Production(IServiceCollection services)
    {
        services.AddSafeMemLeakWatcher(options =>
        {
            options.Name = "app";
            options.WatchScopedServices = true;
            options.AutomaticAnalysis = true;
            options.AnalysisThreshold = 20;
            options.MinimumAnalysisInterval = TimeSpan.FromHours(6);
            options.DumpDirectory = "/var/tmp/safemem";
        });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retained: a {Type} ({Description}) is still alive {Collections} full collections and {Age} after its end")]
    private static partial void LogRetained(ILogger logger, string type, string description, TimeSpan age, int collections);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Leak analysis: {Retained} retained objects in {Groups} groups\n{Report}")]
    private static partial void LogAnalysis(ILogger logger, int retained, int groups, string report);

    /// <summary>A window of a desktop app: closed and disposed, it should be collected.</summary>
    internal sealed class OrdersWindow : IDisposable
    {
        public void Dispose()
        {
        }
    }
}
