using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using SafeMem.Diagnostics.Heap;
using SafeMem.Disposal;
using SafeMem.Pooling;
using SafeMem.Telemetry;

namespace SafeMem.Demo.DocSnippets;

// The code docs/production.md shows, compiled (checked by tests/SafeMem.Tests/DocsTests.cs). Not run by the demo;
// tests/SafeMem.Tests/Telemetry/OpenTelemetryExportTests.cs exercises the same SDK calls with the in-memory exporter,
// and tests/SafeMem.Demo.Tests/Scenarios/DisposalHeapDiffTests.cs the snapshot calls.
internal static partial class ProductionSnippets
{
    private static readonly LeakTracker s_connectionLeaks = new("connections", new LeakTrackerOptions { SamplingRate = 0.01, CaptureStackTrace = true });

    public static void Hosted(IServiceCollection services)
    {
        services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddMeter(SafeMemMetrics.MeterName)
                .AddOtlpExporter());
    }

    public static MeterProvider Standalone()
    {
        MeterProvider meters = Sdk.CreateMeterProviderBuilder()
            .AddMeter(SafeMemMetrics.MeterName)
            .AddOtlpExporter()
            .Build();
        return meters;
    }

    public static void WireLeakLogging(IServiceProvider services)
    {
        ILogger logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("SafeMem.Leaks");
        LogLeaks(s_connectionLeaks, logger);
        LogLeaks(services.GetRequiredService<TrackedObjectPoolProvider>().LeakTracker!, logger);
    }

    public static void HeapDiffEndpoint(WebApplication app)
    {
        if (app.Environment.IsStaging())
        {
            app.MapPost("/debug/heap-diff", async (int seconds, string? retainedType, CancellationToken aborted) =>
            {
                using HeapSnapshot before = HeapSnapshot.Take();
                await Task.Delay(TimeSpan.FromSeconds(seconds), aborted);
                using HeapSnapshot after = HeapSnapshot.Take();

                var text = new StringBuilder(HeapSnapshot.Diff(before, after).ToString(maxRows: 15));
                foreach (RetentionPath path in retainedType is null ? [] : after.FindRetentionPaths(o => o.TypeName == retainedType, maxPaths: 3))
                {
                    text.AppendLine().AppendLine(path.ToString());
                }

                return Results.Text(text.ToString());
            }).RequireAuthorization("operators");
        }
    }

    private static void LogLeaks(LeakTracker tracker, ILogger logger) =>
        tracker.LeakDetected += (_, report) => LogLeak(logger, report.ResourceTypeName, report.TrackerName, report.Details ?? "no details", report.Age,
            report.CreationStackTrace ?? "not recorded (set LeakTrackerOptions.CaptureStackTrace to record it)");

    [LoggerMessage(Level = LogLevel.Warning, Message = "Leak: {ResourceType} became unreachable without being disposed (tracker {Tracker}; {Details}; age {Age}). Created at:\n{CreatedAt}")]
    private static partial void LogLeak(ILogger logger, string resourceType, string tracker, string details, TimeSpan age, string createdAt);

    // For the test of a report without details or stack; not shown in the docs.
    internal static void WireLeakLogging(LeakTracker tracker, ILogger logger) => LogLeaks(tracker, logger);
}
