using System.Diagnostics.Metrics;

namespace SafeMem.Telemetry;

/// <summary>Chooses the <see cref="Meter"/> a block publishes through.</summary>
internal static class SafeMemMeter
{
    private static readonly Lazy<Meter> s_shared = new(
        static () => new Meter(SafeMemMetrics.MeterName, SafeMemMetrics.MeterVersion),
        LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// The process-wide meter. It is never disposed: instruments on it are created once per block kind (not per
    /// instance), so it holds a bounded number of objects however many blocks come and go.
    /// </summary>
    public static Meter Shared => s_shared.Value;

    /// <summary>Returns the meter <paramref name="factory"/> creates for SafeMem, or the shared meter when it is null.</summary>
    public static Meter Resolve(IMeterFactory? factory)
    {
        if (factory is null)
        {
            return Shared;
        }

        // The default IMeterFactory caches meters by name and version, so every block given the same factory shares
        // one meter and one set of instruments.
        return factory.Create(new MeterOptions(SafeMemMetrics.MeterName) { Version = SafeMemMetrics.MeterVersion });
    }
}
