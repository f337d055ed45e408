using System.Diagnostics.Metrics;

namespace SafeMem.Tests.Infrastructure;

/// <summary>
/// An <see cref="IMeterFactory"/> whose meters belong to one test only, so metrics tests that use it cannot see
/// each other's measurements even when they run in parallel.
/// </summary>
public sealed class TestMeterFactory : IMeterFactory
{
    private readonly List<Meter> _meters = [];

    /// <summary>Every meter this factory created.</summary>
    public IReadOnlyList<Meter> Meters
    {
        get
        {
            lock (_meters)
            {
                return [.. _meters];
            }
        }
    }

    public Meter Create(MeterOptions options)
    {
        // Same contract as the default factory: one meter per (name, version), so blocks share instruments.
        lock (_meters)
        {
            foreach (Meter existing in _meters)
            {
                if (existing.Name == options.Name && existing.Version == options.Version)
                {
                    return existing;
                }
            }

            var meter = new Meter(new MeterOptions(options.Name)
            {
                Version = options.Version,
                Tags = options.Tags,
                Scope = this,
            });
            _meters.Add(meter);
            return meter;
        }
    }

    public void Dispose()
    {
        lock (_meters)
        {
            foreach (Meter meter in _meters)
            {
                meter.Dispose();
            }

            _meters.Clear();
        }
    }
}
