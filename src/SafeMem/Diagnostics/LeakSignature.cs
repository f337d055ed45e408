using System.Text;

namespace SafeMem.Diagnostics;

/// <summary>
/// Turns retention traces into the signatures <see cref="LeakGroup"/>s are keyed by, and into the lines reports print.
/// </summary>
/// <remarks>
/// The normalization is textual on purpose: it applies to whatever an explainer names, so every explainer groups the same
/// way. It takes out only what differs between instances of one leak: element indexes (<c>[17]</c>) and thread ids
/// (<c>(thread 12)</c>). Hand-written rather than a regular expression: it runs once per retained object, and the core
/// package keeps its startup free of regex construction.
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

        var builder = new StringBuilder();
        AppendNormalized(builder, trace.Root);
        foreach (string reference in trace.References)
        {
            builder.Append(Arrow);
            AppendNormalized(builder, reference);
        }

        return builder.Append(Arrow).Append(trace.Target).ToString();
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

    /// <summary>Appends <paramref name="part"/> with its element indexes emptied and its thread ids removed.</summary>
    internal static void AppendNormalized(StringBuilder builder, string part)
    {
        const string Thread = " (thread ";
        int i = 0;
        while (i < part.Length)
        {
            char c = part[i];
            if (c == '[' && TryDigitsThen(part, i + 1, ']', out int end))
            {
                builder.Append("[]");
                i = end + 1;
            }
            else if (c == ' ' && string.CompareOrdinal(part, i, Thread, 0, Thread.Length) == 0 && TryDigitsThen(part, i + Thread.Length, ')', out end))
            {
                i = end + 1;
            }
            else
            {
                builder.Append(c);
                i++;
            }
        }
    }

    private static bool TryDigitsThen(string text, int start, char close, out int end)
    {
        end = start;
        while (end < text.Length && char.IsAsciiDigit(text[end]))
        {
            end++;
        }

        return end > start && end < text.Length && text[end] == close;
    }
}
