namespace SafeMem.Demo.Lab;

/// <summary>
/// A small chart beside a scenario's memory chart: one SafeMem instrument as the SafeMem variant published it, and,
/// when the naive variant has a counterpart, the figure that variant reports about itself.
/// </summary>
/// <param name="Title">What the chart shows, e.g. "entries held".</param>
/// <param name="SafeMemKey">A telemetry key (see <see cref="TelemetryReader"/>): an instrument name, optionally with one tag, as in <c>safemem.cache.requests{safemem.cache.result=hit}</c>.</param>
/// <param name="NaiveKey">A figure the naive variant adds in <see cref="Variant.Observe"/>, or <see langword="null"/>.</param>
/// <param name="Bytes">Whether the values are bytes (shown in MB).</param>
/// <param name="ZeroWhenAbsent">
/// Whether a SafeMem instrument that published no measurement counts as 0: an instrument with one series per tag value
/// (<c>safemem.tracker.leaks</c>, one per leaked type) publishes nothing until the first leak.
/// </param>
internal sealed record CounterChart(string Title, string SafeMemKey, string? NaiveKey = null, bool Bytes = false, bool ZeroWhenAbsent = false);
