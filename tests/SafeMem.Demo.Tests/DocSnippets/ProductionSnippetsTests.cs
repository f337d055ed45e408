using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.ObjectPool;
using SafeMem.Demo.DocSnippets;
using SafeMem.Disposal;

namespace SafeMem.Demo.Tests.DocSnippets;

/// <summary>docs/production.md's leak logging, run: a rental never returned ends up in the application's log.</summary>
public sealed class ProductionSnippetsTests
{
    [Fact]
    public void WireLeakLogging_ARentalNeverReturned_IsLoggedWithTheStackThatRentedIt()
    {
        var logged = new FakeLogCollector();
        using ServiceProvider services = new ServiceCollection()
            .AddLogging(logging => logging.AddProvider(new FakeLoggerProvider(logged)))
            .AddSafeMemObjectPools(options =>
            {
                options.Name = "docs";
                options.SamplingRate = 1;
                options.CaptureStackTrace = true;
            })
            .BuildServiceProvider();
        ProductionSnippets.WireLeakLogging(services);
        ObjectPool<StringBuilder> pool = services.GetRequiredService<ObjectPoolProvider>().CreateStringBuilderPool();

        RentAndForget(pool);
        string entry = LeakLog.SingleAfterCollections(logged, TimeSpan.FromSeconds(10));

        Assert.StartsWith("Warning SafeMem.Leaks: Leak: System.Text.StringBuilder became unreachable without being disposed (tracker docs; rented from object pool 'docs/System.Text.StringBuilder' and never returned; age ", entry, StringComparison.Ordinal);
        Assert.Contains("). Created at:\n   at SafeMem.Demo.Tests.DocSnippets.ProductionSnippetsTests.RentAndForget(", entry, StringComparison.Ordinal);
        GC.KeepAlive(pool);
    }

    [Fact]
    public void WireLeakLogging_AReportWithoutDetailsOrStack_IsLoggedWithoutNulls()
    {
        // A plain tracker without stack capture: its reports have neither details nor a creation stack, which the
        // template used to print as "(null)".
        var logged = new FakeLogCollector();
        using var factory = LoggerFactory.Create(logging => logging.AddProvider(new FakeLoggerProvider(logged)));
        var tracker = new LeakTracker("bare", new LeakTrackerOptions { SamplingRate = 1 });
        ProductionSnippets.WireLeakLogging(tracker, factory.CreateLogger("SafeMem.Leaks"));

        TrackAndForget(tracker);
        string entry = LeakLog.SingleAfterCollections(logged, TimeSpan.FromSeconds(10));

        Assert.StartsWith("Warning SafeMem.Leaks: Leak: object became unreachable without being disposed (tracker bare; no details; age ", entry, StringComparison.Ordinal);
        Assert.EndsWith("). Created at:\nnot recorded (set LeakTrackerOptions.CaptureStackTrace to record it)", entry, StringComparison.Ordinal);
        Assert.DoesNotContain("(null)", entry, StringComparison.Ordinal);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void TrackAndForget(LeakTracker tracker) => tracker.Track(new object());

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void RentAndForget(ObjectPool<StringBuilder> pool) => pool.Get().Append("never returned");
}
