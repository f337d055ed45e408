using System.Diagnostics.Metrics;
using System.Reflection;

namespace SafeMem.Telemetry;

/// <summary>
/// The name and version of the <see cref="Meter"/> through which every SafeMem block publishes its instruments.
/// </summary>
/// <remarks>
/// Blocks publish through one process-wide meter named <see cref="MeterName"/>, created on first use and never
/// disposed, unless the block is given an <see cref="IMeterFactory"/>: then its instruments come from the meter that
/// factory creates under the same name. To export SafeMem's figures with OpenTelemetry, add the meter by name:
/// <c>builder.AddMeter(SafeMemMetrics.MeterName)</c>. The instruments are listed in <c>docs/telemetry.md</c>.
/// </remarks>
public static class SafeMemMetrics
{
    /// <summary>The name of the meter SafeMem publishes through: <c>SafeMem</c>.</summary>
    public const string MeterName = "SafeMem";

    /// <summary>Gets the version the meter reports: the informational version of the SafeMem assembly.</summary>
    public static string MeterVersion { get; } = ReadVersion();

    private static string ReadVersion()
    {
        Assembly assembly = typeof(SafeMemMetrics).Assembly;
        string? informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        if (!string.IsNullOrEmpty(informational))
        {
            // Strip build metadata ("+<commit>") so the version is stable across builds of one release.
            int plus = informational.IndexOf('+', StringComparison.Ordinal);
            return plus < 0 ? informational : informational[..plus];
        }

        return assembly.GetName().Version?.ToString() ?? "0.0.0";
    }
}
