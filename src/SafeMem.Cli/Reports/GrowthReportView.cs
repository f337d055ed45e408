using System.Globalization;
using System.Text;
using System.Text.Json;
using SafeMem.Cli.CommandLine;
using SafeMem.Cli.Commands;
using SafeMem.Diagnostics.Heap;

namespace SafeMem.Cli.Reports;

/// <summary>
/// What <c>growth</c> and <c>diff</c> print: the snapshots, the verdict and how sure it is, each growing type with its
/// counts and bytes per snapshot, its rise per minute and the retention path of a new instance, then the warm-up that
/// was told apart. Text for people, JSON (<see cref="GrowthJson"/>) for scripts.
/// </summary>
/// <remarks>Immutable after construction; writes only to the writer it is given.</remarks>
internal sealed class GrowthReportView
{
    private const int WarmUpShown = 5;
    private readonly string _command;
    private readonly int _pid;
    private readonly string _processName;
    private readonly IReadOnlyList<HeapSnapshotRecord> _records;
    private readonly IReadOnlyList<TakenSnapshot>? _costs;
    private readonly HeapGrowthReport _report;
    private readonly int _top;

    /// <param name="command">"growth" or "diff".</param>
    /// <param name="pid">The target's process id.</param>
    /// <param name="processName">The target's name.</param>
    /// <param name="records">The snapshots judged, oldest first.</param>
    /// <param name="costs">What each snapshot cost the target, when this run took them; <see langword="null"/> for files.</param>
    /// <param name="report">The engine's verdict.</param>
    /// <param name="top">The most growing types to print.</param>
    public GrowthReportView(string command, int pid, string processName, IReadOnlyList<HeapSnapshotRecord> records, IReadOnlyList<TakenSnapshot>? costs, HeapGrowthReport report, int top)
    {
        _command = command;
        _pid = pid;
        _processName = processName;
        _records = records;
        _costs = costs;
        _report = report;
        _top = top;
    }

    public void Write(TextWriter output, OutputFormat format)
    {
        if (format == OutputFormat.Json)
        {
            output.WriteLine(JsonSerializer.Serialize(ToJson(), ReportJsonContext.Default.GrowthJson));
        }
        else
        {
            output.Write(ToText());
        }
    }

    public string ToText()
    {
        CultureInfo culture = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        TimeSpan span = _records[^1].TakenAt - _records[0].TakenAt;
        text.Append(culture, $"safemem {_command}: process {_pid} ({_processName}), {_records.Count} snapshots over {Units.Seconds(span)} ({_records[0].TakenAt:yyyy-MM-dd HH:mm:ss}Z to {_records[^1].TakenAt:HH:mm:ss}Z)\n");
        text.Append(culture, $"  live objects: {string.Join(" -> ", _records.Select(r => Units.Count(r.TotalCount)))}; bytes: {string.Join(" -> ", _records.Select(r => Units.Bytes(r.TotalBytes)))}\n");
        if (_costs is not null)
        {
            text.Append(culture, $"  target paused {string.Join(", ", _costs.Select(c => Units.Seconds(c.Pause)))} while its dumps were written ({Units.Bytes(_costs.Max(c => c.DumpBytes))} each at most, deleted once read)\n");
        }

        text.Append('\n');
        if (!_report.HasGrowth)
        {
            text.Append(culture, $"Nothing grew: no type's live instance count rose across every interval ({Intervals()}).\n");
        }
        else
        {
            int shown = Math.Min(_top, _report.Growing.Count);
            text.Append(culture, $"{Plural(_report.Growing.Count, "type")} grew across every interval, most first; {Sureness()}:\n");
            foreach (HeapTypeGrowth type in _report.Growing.Take(shown))
            {
                text.Append(culture, $"\n  {type.TypeName}: {Units.Signed(type.CountRise)} instances ({PerMinute(type.CountPerWork)}/min), {SignedBytes(type.BytesRise)} ({SignedBytes((long)Math.Round(type.BytesPerWork * 60))}/min)\n");
                text.Append(culture, $"    instances  {string.Join(" -> ", type.Counts.Select(Units.Count))}\n");
                text.Append(culture, $"    bytes      {string.Join(" -> ", type.Bytes.Select(Units.Bytes))}\n");
                if (type.NewInstancePath is { } path)
                {
                    text.Append("    a new instance is held by:\n      ").Append(path.ToString().Replace("\n", "\n      ", StringComparison.Ordinal)).Append('\n');
                }
            }

            if (_report.Growing.Count > shown)
            {
                text.Append(culture, $"\n  ({_report.Growing.Count - shown} more growing types; --top shows more)\n");
            }
        }

        if (_report.WarmUp.Count > 0)
        {
            IEnumerable<string> examples = _report.WarmUp.Take(WarmUpShown).Select(w => $"{w.TypeName} {string.Join(" -> ", w.Counts.Select(Units.Count))}");
            text.Append(culture, $"\nWarm-up, not growth (rose, then stopped or slowed): {Plural(_report.WarmUp.Count, "type")}, e.g. {string.Join("; ", examples)}\n");
        }

        if (_report.HasGrowth && _report.InspectionNotes.Count > 0)
        {
            text.Append("\nNot fully inspected:\n");
            foreach (string note in _report.InspectionNotes)
            {
                text.Append("  - ").Append(note).Append('\n');
            }
        }

        return text.ToString();
    }

    public GrowthJson ToJson()
    {
        DateTimeOffset start = _records[0].TakenAt;
        var snapshots = _records.Select((r, i) => new SnapshotJson(
            r.TakenAt,
            (r.TakenAt - start).TotalSeconds,
            r.TotalCount,
            r.TotalBytes,
            _costs?[i].Pause.TotalSeconds,
            _costs?[i].DumpBytes)).ToList();
        return new GrowthJson(
            _command,
            new TargetJson(_pid, _processName),
            snapshots,
            _report.HasGrowth,
            _report.Confidence.ToString().ToLowerInvariant(),
            _report.Growing.Take(_top).Select(ToJson).ToList(),
            _report.WarmUp.Select(ToJson).ToList(),
            _report.HasGrowth ? _report.InspectionNotes : []);
    }

    private static TypeGrowthJson ToJson(HeapTypeGrowth type) => new(
        type.TypeName,
        type.Counts,
        type.Bytes,
        type.CountRise,
        type.BytesRise,
        Math.Round(type.CountPerWork * 60, 1),
        Math.Round(type.BytesPerWork * 60),
        type.Confidence.ToString().ToLowerInvariant(),
        type.NewInstancePath is { } path ? new PathJson(path.RootKind.ToString(), path.Root, path.Hops, path.Target) : null);

    private string Intervals() => Plural(_records.Count - 1, "interval");

    private string Sureness() => _report.Confidence switch
    {
        HeapGrowthConfidence.Low => "low confidence: one interval cannot tell growth from warm-up that is not over (take 3 snapshots or more)",
        HeapGrowthConfidence.Medium => "medium confidence: rising at a steady pace over 2 intervals",
        _ => $"high confidence: rising at a steady pace over {_records.Count - 1} intervals",
    };

    private static string PerMinute(double perSecond)
    {
        double perMinute = perSecond * 60;
        string number = Math.Abs(perMinute) >= 100 ? Units.Count((long)Math.Round(perMinute)) : perMinute.ToString("0.#", CultureInfo.InvariantCulture);
        return perMinute > 0 ? "+" + number : number;
    }

    private static string SignedBytes(long bytes) => bytes > 0 ? "+" + Units.Bytes(bytes) : Units.Bytes(bytes);

    private static string Plural(int count, string noun) => $"{count} {noun}{(count == 1 ? string.Empty : "s")}";
}
