namespace SafeMem.Telemetry;

/// <summary>
/// The tag keys SafeMem attaches to its measurements. Every measurement carries <see cref="Name"/>.
/// </summary>
/// <remarks>
/// Keys follow OpenTelemetry conventions: lowercase, dotted, namespaced under <c>safemem.</c>.
/// They are constants so that dashboards and tests can refer to them without repeating strings.
/// </remarks>
public static class SafeMemTags
{
    /// <summary>The name a user gave to the block instance (<c>safemem.name</c>), so two instances can be told apart.</summary>
    public const string Name = "safemem.name";
}
