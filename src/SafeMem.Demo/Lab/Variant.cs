namespace SafeMem.Demo.Lab;

/// <summary>
/// One side of a scenario: a small simulated service that does one tick of work per <see cref="Step"/>. The naive
/// and the SafeMem variant of a scenario do exactly the same work (same seeds, same sizes); only the data structure
/// that holds on to things differs.
/// </summary>
/// <remarks>
/// A variant lives for the whole run, as the application it stands for would: whatever it keeps in fields is what a
/// static field or a singleton keeps in a real service. The lab measures memory between steps after full
/// collections, so a variant must not keep anything alive that the service it models would not.
/// </remarks>
internal abstract class Variant : IDisposable
{
    /// <summary>One tick of the simulated service. <paramref name="step"/> runs from 1; use it to seed randomness.</summary>
    public abstract void Step(int step);

    /// <summary>
    /// Adds the application's own figures after a step (a naive variant has no telemetry, so this is how its
    /// chart gets the counterpart of a SafeMem instrument, such as the entries a Dictionary holds).
    /// </summary>
    public virtual void Observe(IDictionary<string, double> figures)
    {
    }

    /// <summary>Lines for the summary and the report, after the last step: what the run showed, checked.</summary>
    public virtual IEnumerable<string> Conclude(Sample first, Sample last) => [];

    /// <summary>
    /// The leak reports a <see cref="SafeMem.Disposal.LeakTracker"/> of this variant raised, grouped (see
    /// <see cref="LeakReportCollector"/>); asked once, after <see cref="Conclude"/>, with the last sample, whose
    /// telemetry says how many reports to wait for.
    /// </summary>
    public virtual IReadOnlyList<LeakReportGroup> LeakReports(Sample last) => [];

    /// <summary>
    /// The report of a <see cref="SafeMem.Diagnostics.LeakWatcher"/> of this variant explaining what it found retained
    /// (<see cref="SafeMem.Diagnostics.LeakAnalysis.ToString"/>), or <see langword="null"/>; asked once, last.
    /// </summary>
    public virtual string? LeakAnalysis() => null;

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }
}
