namespace SafeMem.Cli.Reports;

/// <summary>The JSON document of <c>safemem growth</c> and <c>safemem diff</c> (<c>--format json</c>).</summary>
/// <param name="Command">"growth" or "diff".</param>
/// <param name="Target">The process the snapshots are of.</param>
/// <param name="Snapshots">The snapshots, oldest first.</param>
/// <param name="Grew">Whether any type grew across every interval (the exit code is 1 then).</param>
/// <param name="Confidence">none, low (2 snapshots), medium (3) or high (4 or more).</param>
/// <param name="Growing">The growing types, most instances per minute first (at most --top).</param>
/// <param name="WarmUp">Types that rose, then stopped or slowed: not growth.</param>
/// <param name="InspectionNotes">What ClrMD could not inspect while paths were found.</param>
internal sealed record GrowthJson(
    string Command,
    TargetJson Target,
    IReadOnlyList<SnapshotJson> Snapshots,
    bool Grew,
    string Confidence,
    IReadOnlyList<TypeGrowthJson> Growing,
    IReadOnlyList<TypeGrowthJson> WarmUp,
    IReadOnlyList<string> InspectionNotes);

/// <summary>The target process.</summary>
/// <param name="Pid">Its id.</param>
/// <param name="Name">Its name.</param>
internal sealed record TargetJson(int Pid, string Name);

/// <summary>One snapshot.</summary>
/// <param name="TakenAt">When (UTC).</param>
/// <param name="Seconds">Seconds since the first snapshot.</param>
/// <param name="Objects">Live objects.</param>
/// <param name="Bytes">Their bytes.</param>
/// <param name="PauseSeconds">How long the target was suspended for it (null when read from a file).</param>
/// <param name="DumpBytes">The temporary dump's size (null when read from a file).</param>
internal sealed record SnapshotJson(DateTimeOffset TakenAt, double Seconds, long Objects, long Bytes, double? PauseSeconds, long? DumpBytes);

/// <summary>One type that rose.</summary>
/// <param name="Type">Its full name.</param>
/// <param name="Counts">Instances at each snapshot.</param>
/// <param name="Bytes">Their bytes at each snapshot.</param>
/// <param name="CountRise">Instances added from the first snapshot to the last.</param>
/// <param name="BytesRise">Bytes added.</param>
/// <param name="CountPerMinute">The rise in instances per minute.</param>
/// <param name="BytesPerMinute">The rise in bytes per minute.</param>
/// <param name="Confidence">none (warm-up), low, medium or high.</param>
/// <param name="RetentionPath">How a new instance is held, when looked for and found.</param>
internal sealed record TypeGrowthJson(
    string Type,
    IReadOnlyList<long> Counts,
    IReadOnlyList<long> Bytes,
    long CountRise,
    long BytesRise,
    double CountPerMinute,
    double BytesPerMinute,
    string Confidence,
    PathJson? RetentionPath);

/// <summary>A retention path.</summary>
/// <param name="RootKind">StaticField, GCHandle, StackLocal, FinalizerQueue or Other.</param>
/// <param name="Root">The root, e.g. "static field MyApp.Cache.s_items".</param>
/// <param name="Hops">Each reference from the root, as Type.field or Type[index].</param>
/// <param name="Target">The retained object's type.</param>
internal sealed record PathJson(string RootKind, string Root, IReadOnlyList<string> Hops, string Target);
