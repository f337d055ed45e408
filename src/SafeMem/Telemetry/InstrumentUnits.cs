namespace SafeMem.Telemetry;

/// <summary>UCUM units used by SafeMem instruments; annotations in braces name countable things.</summary>
internal static class InstrumentUnits
{
    public const string Bytes = "By";
    public const string Entries = "{entry}";
    public const string Requests = "{request}";
    public const string Calls = "{call}";
    public const string Subscriptions = "{subscription}";
    public const string Raises = "{raise}";
    public const string Failures = "{failure}";
    public const string Objects = "{object}";
    public const string Items = "{item}";
    public const string Scopes = "{scope}";
    public const string Operations = "{operation}";
    public const string Openings = "{opening}";
    public const string Circuits = "{circuit}";
    public const string Messages = "{message}";
    public const string Reconnections = "{reconnection}";
    public const string Connections = "{connection}";
    public const string Changes = "{change}";
    public const string Analyses = "{analysis}";
}
