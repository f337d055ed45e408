using System.Globalization;

namespace SafeMem.Demo.Lab;

/// <summary>
/// The <see cref="SafeMem.Disposal.LeakTracker"/> reports of one variant that share their type, tracker, details and
/// creation stack: how many there were, and the first of them in full (<see cref="SafeMem.Disposal.LeakReport.ToString"/>).
/// </summary>
/// <remarks>A leak repeated in a loop gives thousands of identical reports; grouped, the summary shows each distinct one once.</remarks>
internal sealed record LeakReportGroup(string ResourceType, string Tracker, int Count, double MinAgeSeconds, double MaxAgeSeconds, string Report)
{
    /// <summary>Frames of the lab's own runner (VariantHost, the child protocol, Program): the same under every report, so left out of excerpts.</summary>
    public const string LabFrame = "   at SafeMem.Demo.Lab.";

    /// <summary>Groups the summary and the report show per variant; the rest are counted, not shown.</summary>
    public const int Shown = 3;

    /// <summary>One line above a variant's groups: <c>LeakTracker reported 120 leaks from 2 creation stacks; one report of each:</c></summary>
    public static string Introduce(IReadOnlyList<LeakReportGroup> groups)
    {
        int total = groups.Sum(g => g.Count);
        return groups.Count switch
        {
            1 => string.Create(CultureInfo.InvariantCulture, $"LeakTracker reported {total:N0} leaks, all from one creation stack:"),
            <= Shown => string.Create(CultureInfo.InvariantCulture, $"LeakTracker reported {total:N0} leaks from {groups.Count} creation stacks; one report of each:"),
            _ => string.Create(CultureInfo.InvariantCulture, $"LeakTracker reported {total:N0} leaks from {groups.Count} creation stacks; one report of each of the {Shown} most frequent:"),
        };
    }

    /// <summary>The line above one group's report: <c>48 like this one (ages 0.4 ms to 76 ms ...)</c>.</summary>
    public string Heading => Count == 1
        ? $"1 like this one (age {Age(MinAgeSeconds)}, until the collection that found it)"
        : string.Create(CultureInfo.InvariantCulture, $"{Count:N0} like this one (ages {Age(MinAgeSeconds)} to {Age(MaxAgeSeconds)}, until the collection that found them)");

    /// <summary>The report as <see cref="Report"/> gives it, with the creation stack cut where the lab's runner begins.</summary>
    public IReadOnlyList<string> Excerpt()
    {
        string[] lines = Report.Split('\n');
        var excerpt = new List<string>(lines.Length);
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].TrimEnd('\r');
            if (line.StartsWith(LabFrame, StringComparison.Ordinal))
            {
                excerpt.Add($"   ... {lines.Length - i} more frames (the lab's runner)");
                break;
            }

            excerpt.Add(line);
        }

        return excerpt;
    }

    private static string Age(double seconds) => seconds < 1
        ? string.Create(CultureInfo.InvariantCulture, $"{seconds * 1000:0.#} ms")
        : string.Create(CultureInfo.InvariantCulture, $"{seconds:0.#} s");
}
