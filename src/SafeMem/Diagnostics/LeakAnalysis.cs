using System.Globalization;
using System.Text;

namespace SafeMem.Diagnostics;

/// <summary>
/// What <see cref="LeakWatcher.AnalyzeAsync"/> found: the objects retained at the moment of the analysis, grouped by
/// retention signature into <see cref="Leaks"/> (one <see cref="LeakGroup"/> per distinct leak), with the path from a
/// GC root to each. <see cref="ToString"/> is the report to paste into a bug.
/// </summary>
/// <remarks>
/// Immutable and thread-safe; holds names and counts only, never an object of the process. When the heap could not be
/// read (<see cref="UnavailableReason"/>), the groups are still there, one per type, without paths.
/// </remarks>
public sealed class LeakAnalysis
{
    internal LeakAnalysis(string watcherName, DateTimeOffset startedAt, TimeSpan duration, IReadOnlyList<LeakGroup> leaks, int collectedMeanwhile)
    {
        WatcherName = watcherName;
        StartedAt = startedAt;
        Duration = duration;
        Leaks = leaks;
        CollectedMeanwhile = collectedMeanwhile;
        RetainedCount = leaks.Sum(static g => g.Count);
    }

    /// <summary>Gets the name of the watcher whose retained objects were analyzed.</summary>
    public string WatcherName { get; }

    /// <summary>Gets when the analysis started.</summary>
    public DateTimeOffset StartedAt { get; }

    /// <summary>Gets how long the analysis took: dump, heap walk and grouping.</summary>
    public TimeSpan Duration { get; }

    /// <summary>Gets the distinct leaks, most objects first: one group per retention signature.</summary>
    public IReadOnlyList<LeakGroup> Leaks { get; }

    /// <summary>Gets the number of retained objects the analysis found alive and grouped.</summary>
    public int RetainedCount { get; }

    /// <summary>Gets the number of retained objects that were collected before the heap was read: they were held late, not leaked.</summary>
    public int CollectedMeanwhile { get; }

    /// <summary>Gets why no path is known, or <see langword="null"/> when the heap was read (the process could not dump itself, or the explainer failed).</summary>
    public string? UnavailableReason { get; init; }

    /// <summary>Gets what could not be fully inspected (root kinds the heap reader failed on or may miss).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>Gets how long the process was paused while its dump was written, when the explainer measured it.</summary>
    public TimeSpan? Pause { get; init; }

    /// <summary>Gets the size in bytes of the temporary dump (deleted before the analysis returned), when the explainer knows it.</summary>
    public long? DumpBytes { get; init; }

    /// <summary>Returns the report: a summary line, then each leak with its count, descriptions, signature and path, then what was not inspected.</summary>
    /// <returns>The multi-line report.</returns>
    public override string ToString()
    {
        CultureInfo culture = CultureInfo.InvariantCulture;
        var builder = new StringBuilder();
        builder.Append(culture, $"LeakWatcher '{WatcherName}': {RetainedCount:N0} retained object{(RetainedCount == 1 ? string.Empty : "s")} in {Leaks.Count:N0} group{(Leaks.Count == 1 ? string.Empty : "s")}");
        builder.Append(culture, $" (analyzed at {StartedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z in {Duration.TotalSeconds:0.0} s");
        if (DumpBytes is { } bytes)
        {
            builder.Append(culture, $"; dump {bytes / (1024.0 * 1024.0):N0} MB");
        }

        if (Pause is { } pause)
        {
            builder.Append(culture, $", process paused {pause.TotalSeconds:0.0} s");
        }

        builder.Append(')');
        if (CollectedMeanwhile > 0)
        {
            builder.Append(culture, $"\n{CollectedMeanwhile:N0} more were collected before the heap was read (held late, not leaked).");
        }

        if (UnavailableReason is not null)
        {
            builder.Append("\nThe retention paths are unavailable: ").Append(UnavailableReason).Append('.');
        }

        for (int i = 0; i < Leaks.Count; i++)
        {
            builder.Append(culture, $"\n\n#{i + 1}  ").Append(Leaks[i].ToString());
        }

        if (Notes.Count > 0)
        {
            builder.Append("\n\nNot fully inspected:");
            foreach (string note in Notes)
            {
                builder.Append("\n  - ").Append(note);
            }
        }

        return builder.ToString();
    }
}
