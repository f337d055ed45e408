using System.Globalization;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using SafeMem.Telemetry;

namespace SafeMem.Demo.Lab;

/// <summary>
/// A variant's SafeMem meter served for Prometheus to scrape (<c>--metrics-port</c>), by the OpenTelemetry SDK and its
/// Prometheus exporter: the names and labels a Prometheus scraping an application's exporter sees, which the alerting
/// rules in docs/operations are written against.
/// </summary>
/// <remarks>
/// Bound to 127.0.0.1 only. The exporter answers a scrape by collecting the observable instruments then, so the lab's own
/// readings (a <see cref="System.Diagnostics.Metrics.MeterListener"/>) and Prometheus's do not disturb one another.
/// </remarks>
internal static class PrometheusEndpoint
{
    public static string Url(int port) => string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}/metrics");

    /// <summary>Serves the meter until the returned provider is disposed.</summary>
    public static IDisposable Start(int port) => Sdk.CreateMeterProviderBuilder()
        .AddMeter(SafeMemMetrics.MeterName)
        .AddPrometheusHttpListener(options =>
        {
            // Every other setting is the exporter's default, so the names are those an application's exporter publishes.
            options.Host = "127.0.0.1";
            options.Port = port;
        })
        .Build();
}
