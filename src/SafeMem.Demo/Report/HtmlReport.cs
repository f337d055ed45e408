using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using SafeMem.Demo.Lab;
using SafeMem.Telemetry;

namespace SafeMem.Demo.Report;

/// <summary>
/// The lab's report: one self-contained HTML file (inline CSS and SVG, no script, nothing fetched) with the summary,
/// and per scenario a chart of retained memory over time, naive vs SafeMem, and charts of the SafeMem instruments.
/// </summary>
/// <remarks>
/// The markup is well-formed XML after its doctype line, and carries the measured numbers in <c>data-</c>
/// attributes, so a test can check the report against the run it came from.
/// </remarks>
internal static class HtmlReport
{
    private const string Style = """
        body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2933; background: #f5f7fa; margin: 0; }
        main { max-width: 1120px; margin: 0 auto; padding: 24px 28px 48px; }
        h1 { font-size: 26px; margin: 8px 0 4px; }
        h2 { font-size: 20px; margin: 0 0 4px; }
        .meta, .story, .note-muted { color: #52606d; font-size: 14px; }
        .banner { padding: 10px 14px; border-radius: 8px; margin: 16px 0; font-weight: 600; }
        .banner.ok { background: #e3f9e5; color: #0e5f2a; }
        .banner.failed { background: #ffe3e3; color: #8a1c1c; }
        table.summary { border-collapse: collapse; width: 100%; background: #fff; border-radius: 8px; overflow: hidden; font-size: 14px; }
        table.summary th, table.summary td { padding: 8px 10px; border-bottom: 1px solid #e4e7eb; text-align: left; vertical-align: top; }
        table.summary td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        table.summary th { background: #eef2f7; font-weight: 600; }
        .label { color: #7b8794; font-size: 12px; display: block; }
        .naive-text { color: #c8372d; }
        .safemem-text { color: #147d64; }
        section.scenario { background: #fff; border-radius: 10px; padding: 18px 20px; margin: 22px 0; box-shadow: 0 1px 3px rgba(15, 23, 42, 0.08); }
        .charts { display: flex; flex-wrap: wrap; gap: 12px 14px; margin-top: 12px; }
        figure { margin: 0; }
        figcaption { font-size: 13px; font-weight: 600; color: #323f4b; margin: 4px 0 2px; max-width: 246px; min-height: 2.4em; }
        .legend { font-size: 13px; margin: 6px 0 0; }
        figcaption.wide { max-width: none; min-height: 0; }
        .legend span { margin-right: 18px; white-space: nowrap; }
        .legend.small { font-size: 12px; margin-top: 2px; max-width: 246px; }
        .legend.small span { margin-right: 10px; }
        .legend .source { display: block; color: #7b8794; white-space: normal; overflow-wrap: anywhere; margin-top: 2px; }
        .legend .source code { font-size: 11px; }
        .swatch { display: inline-block; width: 22px; height: 3px; vertical-align: middle; margin-right: 6px; border-radius: 2px; }
        .swatch.naive { background: #e5534b; }
        .swatch.safemem { background: #1f9d7a; }
        svg.chart { background: #fff; }
        svg .grid { stroke: #e4e7eb; stroke-width: 1; }
        svg .axis { stroke: #9aa5b1; stroke-width: 1; }
        svg .tick { fill: #7b8794; font-size: 11px; }
        svg .axis-title { fill: #52606d; font-size: 11px; }
        svg .series { fill: none; stroke-width: 2.4; stroke-linejoin: round; stroke-linecap: round; }
        svg .series.naive { stroke: #e5534b; }
        svg .series.safemem { stroke: #1f9d7a; }
        ul.notes { margin: 12px 0 0; padding-left: 18px; font-size: 14px; }
        ul.notes li { margin: 3px 0; }
        .verdict-flat { color: #147d64; font-weight: 600; }
        .verdict-grew { color: #c8372d; font-weight: 600; }
        .verdict-warn { color: #a86b00; font-weight: 600; }
        .leaks { margin: 14px 0 0; }
        .leak-intro { font-size: 14px; margin: 0 0 6px; }
        .leak-heading { font-size: 13px; color: #52606d; margin: 8px 0 3px; }
        pre.leak-report { font: 12px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f8fafc; border: 1px solid #e4e7eb; border-radius: 6px; padding: 8px 10px; margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
        """;

    public static string Render(LabResult result)
    {
        var html = new StringBuilder();
        html.AppendLine("<!DOCTYPE html>");
        html.Append("<html lang=\"en\"><head><meta charset=\"utf-8\" /><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\" />");
        html.Append("<title>SafeMem leak lab</title><style>").Append(Style).Append("</style></head><body><main>");
        html.Append("<h1>SafeMem leak lab</h1>");
        html.Append(Invariant($"<p class=\"meta\">{result.StartedAt:yyyy-MM-dd HH:mm} · {result.Scenarios.Count} scenarios · {result.Plan.Steps} steps of {result.Plan.Interval.TotalMilliseconds:F0} ms per variant, each variant in its own process · took {result.Elapsed.TotalSeconds:F0} s · SafeMem {Html.Escape(SafeMemMetrics.MeterVersion)} · {Html.Escape(RuntimeInformation.FrameworkDescription)} · {Html.Escape(RuntimeInformation.OSDescription)} · {Environment.ProcessorCount} cores</p>"));
        html.Append(result.ExitCode == 0
            ? "<p class=\"banner ok\" data-exit-code=\"0\">No SafeMem variant grew: every leak below is fixed by its block.</p>"
            : "<p class=\"banner failed\" data-exit-code=\"1\">A SafeMem variant grew, or a variant failed to run: see the verdicts.</p>");
        html.Append("<p class=\"meta\">Retained memory is the managed heap after full blocking, compacting collections, measured after every step, minus the same measure before the first step; charts plot it against the run's schedule (step × interval). " +
            "Both variants of a scenario do the same work. The SafeMem figures come from its instruments, read through a <code>MeterListener</code> on the <code>SafeMem</code> meter. " +
            Invariant($"A SafeMem variant <em>grew</em> when its robust slope over the second half of the run adds more than {Format.Megabytes(GrowthCriterion.FloorBytes)} or {GrowthCriterion.NaiveShare:P0} of the naive variant's second-half growth.</p>"));
        Summary(html, result);
        // The x axis is the run's schedule (step × interval), not each process's clock: both variants did the same work at
        // the same step, and a variant that fell behind on a busy machine would otherwise look as if it leaked faster.
        double seconds = result.Plan.Interval.TotalSeconds;
        var axis = seconds > 0 ? new Axis("seconds", step => step * seconds) : new Axis("step", step => step);
        foreach (ScenarioResult scenario in result.Scenarios)
        {
            Section(html, scenario, axis);
        }

        html.Append("</main></body></html>");
        html.AppendLine();
        return html.ToString();
    }

    /// <summary>
    /// Checks, before a run, that the report can be written at <paramref name="path"/> (the folders can be created and the
    /// file opened for writing), so that a bad <c>--output</c> fails in a second rather than after the whole run.
    /// </summary>
    /// <returns>Why the report cannot be written there, as a line for the user; <see langword="null"/> when it can.</returns>
    /// <remarks>Leaves an existing file as it was (opened, not truncated) and deletes the file when the check created it.</remarks>
    public static string? CannotWrite(string path)
    {
        try
        {
            string full = Path.GetFullPath(path);
            if (Directory.Exists(full))
            {
                return $"--output '{path}' is a folder: give a file path, such as '{Path.Combine(path, LabOptions.DefaultOutput)}'.";
            }

            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            bool existed = File.Exists(full);
            using (new FileStream(full, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
            {
            }

            if (!existed)
            {
                File.Delete(full);
            }

            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return $"--output '{path}': the report cannot be written there ({e.Message}).";
        }
    }

    public static string Write(LabResult result, string path)
    {
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, Render(result), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        return full;
    }

    private static void Summary(StringBuilder html, LabResult result)
    {
        html.Append("<table class=\"summary\"><thead><tr><th>scenario</th><th>naive: retained growth</th><th>SafeMem: retained growth</th><th>SafeMem, second half</th><th>verdict</th></tr></thead><tbody>");
        foreach (ScenarioResult scenario in result.Scenarios)
        {
            Scenario s = scenario.Scenario;
            html.Append(Invariant($"<tr data-scenario=\"{s.Key}\"><td><strong>{Html.Escape(s.Title)}</strong><span class=\"label\">{Html.Escape(s.NaiveLabel)} vs {Html.Escape(s.SafeMemLabel)}</span></td>"));
            html.Append(Invariant($"<td class=\"num naive-text\" data-variant=\"naive\" data-bytes=\"{scenario.Naive.Growth}\">{Format.Growth(scenario.Naive.Growth)}</td>"));
            html.Append(Invariant($"<td class=\"num safemem-text\" data-variant=\"safemem\" data-bytes=\"{scenario.SafeMem.Growth}\">{Format.Growth(scenario.SafeMem.Growth)}</td>"));
            html.Append(Invariant($"<td class=\"num\" data-late-bytes=\"{scenario.SafeMem.LateGrowth}\">{Format.Growth(scenario.SafeMem.LateGrowth)}<span class=\"label\">limit {Format.Megabytes(scenario.Threshold)}</span></td>"));
            html.Append("<td>").Append(Verdict(scenario)).Append("</td></tr>");
        }

        html.Append("</tbody></table>");
    }

    private static string Verdict(ScenarioResult scenario) =>
        !scenario.Naive.Succeeded || !scenario.SafeMem.Succeeded ? "<span class=\"verdict-grew\" data-verdict=\"failed\">failed to run</span>"
        : scenario.SafeMemGrew ? "<span class=\"verdict-grew\" data-verdict=\"grew\">SafeMem grew</span>"
        : scenario.NaiveFlat ? "<span class=\"verdict-warn\" data-verdict=\"flat\">flat; the naive variant did not leak (run longer)</span>"
        : "<span class=\"verdict-flat\" data-verdict=\"flat\">flat</span>";

    private static void Section(StringBuilder html, ScenarioResult scenario, Axis axis)
    {
        Scenario s = scenario.Scenario;
        html.Append(Invariant($"<section class=\"scenario\" id=\"scenario-{s.Key}\" data-scenario=\"{s.Key}\"><h2>{Html.Escape(s.Title)}</h2>"));
        html.Append("<p class=\"story\">").Append(Html.Escape(s.Story)).Append("</p>");

        var memory = new List<ChartSeries>
        {
            Memory(scenario.Naive, "naive", axis),
            Memory(scenario.SafeMem, "safemem", axis),
        };
        html.Append("<figure><figcaption class=\"wide\">Retained managed memory since the first step</figcaption>");
        html.Append(SvgChart.Render("memory", "retained", 1060, 300, memory, axis.Title, y => Invariant($"{y:0.#} MB")));
        html.Append("<p class=\"legend\">");
        html.Append(Invariant($"<span><i class=\"swatch naive\"></i>naive: {Html.Escape(s.NaiveLabel)} <strong class=\"naive-text\">{Format.Growth(scenario.Naive.Growth)}</strong></span>"));
        html.Append(Invariant($"<span><i class=\"swatch safemem\"></i>SafeMem: {Html.Escape(s.SafeMemLabel)} <strong class=\"safemem-text\">{Format.Growth(scenario.SafeMem.Growth)}</strong></span>"));
        html.Append("</p></figure>");

        html.Append("<div class=\"charts\">");
        foreach (CounterChart chart in s.Charts)
        {
            var series = new List<ChartSeries>();
            if (chart.NaiveKey is not null)
            {
                series.Add(Counter(scenario.Naive, "naive", chart.NaiveKey, chart.Bytes, axis));
            }

            series.Add(Counter(scenario.SafeMem, "safemem", chart.SafeMemKey, chart.Bytes, axis));
            string source = chart.SafeMemKey.StartsWith("safemem.", StringComparison.Ordinal)
                ? $"<code>{Html.Escape(chart.SafeMemKey)}</code>"
                : "measured by the scenario";
            html.Append("<figure><figcaption>").Append(Html.Escape(chart.Title)).Append("</figcaption>");
            html.Append(SvgChart.Render("counter", chart.SafeMemKey, 246, 150, series, axis.Title, y => chart.Bytes ? Invariant($"{y:0.#} MB") : Compact(y)));
            html.Append("<p class=\"legend small\">");
            if (chart.NaiveKey is not null)
            {
                html.Append(Invariant($"<span><i class=\"swatch naive\"></i><strong class=\"naive-text\">{Last(scenario.Naive, chart.NaiveKey, chart.Bytes)}</strong></span>"));
            }

            html.Append(Invariant($"<span><i class=\"swatch safemem\"></i><strong class=\"safemem-text\">{Last(scenario.SafeMem, chart.SafeMemKey, chart.Bytes)}</strong></span>"));
            html.Append(Invariant($"<span class=\"source\">{source}</span></p></figure>"));
        }

        html.Append("</div><ul class=\"notes\">");
        foreach (VariantResult variant in new[] { scenario.Naive, scenario.SafeMem })
        {
            string css = variant.Kind == VariantKind.Naive ? "naive-text" : "safemem-text";
            foreach (string note in variant.Notes)
            {
                html.Append(Invariant($"<li><span class=\"{css}\">{(variant.Kind == VariantKind.Naive ? "naive" : "SafeMem")}:</span> {Html.Escape(note)}</li>"));
            }

            if (variant.Error is { } error)
            {
                html.Append(Invariant($"<li class=\"verdict-grew\">{variant.Kind} failed: {Html.Escape(error)}</li>"));
            }
        }

        html.Append("</ul>");
        foreach (VariantResult variant in new[] { scenario.Naive, scenario.SafeMem }.Where(v => v.LeakReports.Count > 0))
        {
            // Grouped by creation stack: one report of each distinct leak, with how many there were.
            bool naive = variant.Kind == VariantKind.Naive;
            html.Append(Invariant($"<div class=\"leaks\" data-variant=\"{(naive ? "naive" : "safemem")}\" data-total=\"{variant.LeakReportCount}\">"));
            html.Append(Invariant($"<p class=\"leak-intro\"><span class=\"{(naive ? "naive-text" : "safemem-text")}\">{(naive ? "naive" : "SafeMem")}:</span> {Html.Escape(LeakReportGroup.Introduce(variant.LeakReports))}</p>"));
            foreach (LeakReportGroup group in variant.LeakReports.Take(LeakReportGroup.Shown))
            {
                html.Append(Invariant($"<div class=\"leak\" data-count=\"{group.Count}\"><p class=\"leak-heading\">{Html.Escape(group.Heading)}</p>"));
                html.Append("<pre class=\"leak-report\">").Append(Html.Escape(string.Join('\n', group.Excerpt()))).Append("</pre></div>");
            }

            html.Append("</div>");
        }

        foreach (VariantResult variant in new[] { scenario.Naive, scenario.SafeMem }.Where(v => v.LeakAnalysis is not null))
        {
            // A leak watcher's explanation: the retained objects grouped by retention path, as LeakAnalysis.ToString writes it.
            bool naive = variant.Kind == VariantKind.Naive;
            html.Append(Invariant($"<div class=\"leaks analysis\" data-variant=\"{(naive ? "naive" : "safemem")}\">"));
            html.Append(Invariant($"<p class=\"leak-intro\"><span class=\"{(naive ? "naive-text" : "safemem-text")}\">{(naive ? "naive" : "SafeMem")}:</span> LeakWatcher.AnalyzeAsync explained what holds the retained objects:</p>"));
            html.Append("<pre class=\"leak-report\">").Append(Html.Escape(variant.LeakAnalysis!)).Append("</pre></div>");
        }

        html.Append("</section>");
    }

    private static string Last(VariantResult variant, string key, bool bytes) =>
        variant.Samples.Count > 0 && variant.Samples[^1].Value(key) is double value ? Format.Value(value, bytes) : "-";

    private static ChartSeries Memory(VariantResult variant, string css, Axis axis)
    {
        long baseline = variant.Samples.Count == 0 ? 0 : variant.Samples[0].RetainedBytes;
        return new ChartSeries(css, css, [.. variant.Samples.Select(p => (axis.X(p.Step), (p.RetainedBytes - baseline) / (1024.0 * 1024.0)))]);
    }

    private static ChartSeries Counter(VariantResult variant, string css, string key, bool bytes, Axis axis) =>
        new(key, css, [.. variant.Samples
            .Where(p => p.Value(key) is not null)
            .Select(p => (axis.X(p.Step), bytes ? p.Value(key)!.Value / (1024.0 * 1024.0) : p.Value(key)!.Value))]);

    private sealed record Axis(string Title, Func<int, double> X);

    private static string Compact(double value) => Math.Abs(value) switch
    {
        >= 1_000_000 => Invariant($"{value / 1_000_000:0.#}M"),
        >= 10_000 => Invariant($"{value / 1_000:0.#}k"),
        _ => Invariant($"{value:0.##}"),
    };

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
