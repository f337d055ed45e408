using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using SafeMem.Telemetry;

namespace SafeMem.Demo.DocSnippets;

// The code docs/production.md shows, compiled (checked by tests/SafeMem.Tests/DocsTests.cs). Not run by the demo;
// tests/SafeMem.Tests/Telemetry/OpenTelemetryExportTests.cs exercises the same SDK calls with the in-memory exporter.
internal static class ProductionSnippets
{
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
}
