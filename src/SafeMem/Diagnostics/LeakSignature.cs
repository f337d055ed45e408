namespace SafeMem.Diagnostics;

/// <summary>The signature a <see cref="LeakGroup"/> is keyed by, and the lines reports print a trace as.</summary>
/// <remarks>
/// The signature itself comes from the explainer (<see cref="RetentionTrace.Signature"/>): telling what varies between
/// instances of one leak is the heap engine's job, done once there for every tool that groups paths. Only objects
/// without a path are grouped here, by type.
/// </remarks>
internal static class LeakSignature
{
    public const string Arrow = " -> ";

    public static string Of(RetentionTrace? trace, string typeName)
    {
        if (trace?.Root is null)
        {
            return "(no known path)" + Arrow + typeName;
        }

        return trace.Signature ?? string.Join(Arrow, [trace.Root, .. trace.References, trace.Target]);
    }

    public static IReadOnlyList<string> Lines(string? root, IReadOnlyList<string> references, string target)
    {
        var lines = new List<string>(references.Count + 2)
        {
            root ?? "no root the explainer inspected reaches it (most often a local variable of a running method)",
        };
        foreach (string reference in references)
        {
            lines.Add("  -> " + reference);
        }

        lines.Add("  -> " + target);
        return lines;
    }
}
