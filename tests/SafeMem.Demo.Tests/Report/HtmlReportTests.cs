using System.Globalization;
using System.Xml.Linq;
using SafeMem.Demo.Lab;
using SafeMem.Demo.Report;

namespace SafeMem.Demo.Tests.Report;

/// <summary>The report of a short run: its structure, and the numbers in it against the run it came from.</summary>
[Collection(LabRunCollection.Name)]
public sealed class HtmlReportTests(LabRunFixture run)
{
    private readonly XElement _html = Parse(HtmlReport.Render(run.Result));

    [Fact]
    public void Render_OneSectionPerScenario_InRunOrder()
    {
        Assert.Equal(
            run.Result.Scenarios.Select(s => s.Scenario.Key),
            Elements("section").Select(s => (string)s.Attribute("data-scenario")!));
    }

    [Fact]
    public void Render_EachSection_HasOneMemoryChartWithBothVariants_EveryStepPlotted()
    {
        foreach (ScenarioResult scenario in run.Result.Scenarios)
        {
            XElement chart = Assert.Single(Section(scenario).Descendants("svg"), svg => (string?)svg.Attribute("data-chart") == "memory");
            var lines = chart.Elements("polyline").ToList();
            Assert.Equal(["naive", "safemem"], lines.Select(l => (string)l.Attribute("data-variant")!));
            foreach (XElement line in lines)
            {
                VariantResult variant = scenario[(string)line.Attribute("data-variant")! == "naive" ? VariantKind.Naive : VariantKind.SafeMem];
                Assert.Equal(variant.Samples.Count, ((string)line.Attribute("points")!).Split(' ').Length);
                Assert.Equal(variant.Samples.Count, (int)line.Attribute("data-samples")!);
                Assert.Equal(variant.Growth / (1024.0 * 1024.0), double.Parse((string)line.Attribute("data-last")!, CultureInfo.InvariantCulture), 9);
            }
        }
    }

    [Fact]
    public void Render_EachSection_ChartsEveryDeclaredInstrument()
    {
        foreach (ScenarioResult scenario in run.Result.Scenarios)
        {
            var charts = Section(scenario).Descendants("svg").Where(svg => (string?)svg.Attribute("data-chart") == "counter").ToList();
            Assert.Equal(scenario.Scenario.Charts.Select(c => c.SafeMemKey), charts.Select(c => (string)c.Attribute("data-key")!));
            for (int i = 0; i < charts.Count; i++)
            {
                CounterChart declared = scenario.Scenario.Charts[i];
                var lines = charts[i].Elements("polyline").ToList();
                Assert.Equal(declared.NaiveKey is null ? ["safemem"] : ["naive", "safemem"], lines.Select(l => (string)l.Attribute("data-variant")!));
                double last = scenario.SafeMem.Samples[^1].Value(declared.SafeMemKey)!.Value;
                double plotted = double.Parse((string)lines[^1].Attribute("data-last")!, CultureInfo.InvariantCulture);
                Assert.Equal(declared.Bytes ? last / (1024.0 * 1024.0) : last, plotted, 9);
            }
        }
    }

    [Fact]
    public void Render_SummaryTable_GivesEachVariantsGrowth()
    {
        var rows = Elements("tr").Where(r => r.Attribute("data-scenario") is not null).ToList();
        Assert.Equal(run.Result.Scenarios.Count, rows.Count);
        foreach (ScenarioResult scenario in run.Result.Scenarios)
        {
            XElement row = rows.Single(r => (string)r.Attribute("data-scenario")! == scenario.Scenario.Key);
            foreach (VariantResult variant in new[] { scenario.Naive, scenario.SafeMem })
            {
                XElement cell = row.Elements("td").Single(td => (string?)td.Attribute("data-variant") == (variant.Kind == VariantKind.Naive ? "naive" : "safemem"));
                Assert.Equal(variant.Growth, (long)cell.Attribute("data-bytes")!);
                Assert.Equal(Format.Growth(variant.Growth), cell.Value);
            }

            Assert.Equal(scenario.SafeMem.LateGrowth, (long)row.Descendants("td").Single(td => td.Attribute("data-late-bytes") is not null).Attribute("data-late-bytes")!);
            Assert.Equal(scenario.SafeMemGrew ? "grew" : "flat", (string)row.Descendants("span").Single(s => s.Attribute("data-verdict") is not null).Attribute("data-verdict")!);
        }

        Assert.Equal(run.Result.ExitCode, (int)Elements("p").Single(p => p.Attribute("data-exit-code") is not null).Attribute("data-exit-code")!);
    }

    [Fact]
    public void Render_EachSection_ListsBothVariantsConclusions()
    {
        foreach (ScenarioResult scenario in run.Result.Scenarios)
        {
            var notes = Section(scenario).Descendants("li").Select(li => li.Value).ToList();
            Assert.Equal(scenario.Naive.Notes.Count + scenario.SafeMem.Notes.Count, notes.Count);
            Assert.All(scenario.Naive.Notes, note => Assert.Contains("naive: " + note, notes));
            Assert.All(scenario.SafeMem.Notes, note => Assert.Contains("SafeMem: " + note, notes));
        }
    }

    [Fact]
    public void Render_LeakAnalysis_ShowsTheWatchersReportForTheVariantThatHasOne()
    {
        ScenarioResult watcher = run.Result.Scenarios.Single(s => s.Scenario.Key == "watcher");

        XElement analysis = Assert.Single(Section(watcher).Descendants("div"), d => (string?)d.Attribute("class") == "leaks analysis");

        Assert.Equal("naive", (string)analysis.Attribute("data-variant")!);
        Assert.Equal(watcher.Naive.LeakAnalysis, analysis.Element("pre")!.Value);
        Assert.Contains("LeakWatcher.AnalyzeAsync explained", analysis.Element("p")!.Value, StringComparison.Ordinal);
        Assert.All(run.Result.Scenarios.Where(s => s != watcher), s => Assert.DoesNotContain(Section(s).Descendants("div"), d => (string?)d.Attribute("class") == "leaks analysis"));
    }

    [Fact]
    public void Render_LeakReports_OneBlockPerVariantThatHasThem_EveryLeakTheTelemetryCountedIsReported()
    {
        int blocks = 0;
        foreach (ScenarioResult scenario in run.Result.Scenarios)
        {
            var leaks = Section(scenario).Descendants("div").Where(d => (string?)d.Attribute("class") == "leaks").ToList();
            VariantResult[] reporting = [.. new[] { scenario.Naive, scenario.SafeMem }.Where(v => v.LeakReports.Count > 0)];
            Assert.Equal(reporting.Select(v => v.Kind == VariantKind.Naive ? "naive" : "safemem"), leaks.Select(d => (string)d.Attribute("data-variant")!));
            for (int i = 0; i < leaks.Count; i++)
            {
                VariantResult variant = reporting[i];
                Assert.Equal(variant.LeakReportCount, (int)leaks[i].Attribute("data-total")!);
                Assert.Equal(variant.Samples[^1].Value("safemem.tracker.leaks"), variant.LeakReportCount);

                var groups = leaks[i].Elements("div").ToList();
                Assert.Equal(variant.LeakReports.Take(LeakReportGroup.Shown).Select(g => g.Count), groups.Select(g => (int)g.Attribute("data-count")!));
                for (int g = 0; g < groups.Count; g++)
                {
                    string shown = groups[g].Element("pre")!.Value;
                    Assert.Equal(string.Join('\n', variant.LeakReports[g].Excerpt()), shown);
                    Assert.StartsWith("LEAK: a ", shown, StringComparison.Ordinal);
                    Assert.Contains("created at:\n   at SafeMem.Demo.Scenarios.", shown, StringComparison.Ordinal);
                    Assert.EndsWith("more frames (the lab's runner)", shown, StringComparison.Ordinal);
                }

                blocks++;
            }
        }

        // The disposal scenario's naive variant and the pooling scenario's SafeMem variant report leaks.
        Assert.Equal(2, blocks);
    }

    [Fact]
    public void Render_IsSelfContained()
    {
        string html = HtmlReport.Render(run.Result);

        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<link", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("src=", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("http", html.Replace("http://www.w3.org", string.Empty, StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase);
    }

    private XElement Section(ScenarioResult scenario) =>
        Elements("section").Single(s => (string?)s.Attribute("data-scenario") == scenario.Scenario.Key);

    private IEnumerable<XElement> Elements(string name) => _html.Descendants(name);

    private static XElement Parse(string html)
    {
        // The report is XML after its doctype line; parsing it as such makes any unbalanced tag a test failure.
        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        return XElement.Parse(html["<!DOCTYPE html>".Length..]);
    }
}
