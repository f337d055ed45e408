using System.Text.Json;

namespace SafeMem.Demo.Lab;

/// <summary>
/// What a child process (<c>SafeMem.Demo --child &lt;scenario&gt; &lt;variant&gt;</c>) writes on its standard output:
/// one JSON message per line, samples as they are taken, then the variant's conclusions.
/// </summary>
internal static class ChildProtocol
{
    public const string Option = "--child";

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    /// <summary>The child's side: runs the variant and reports on <paramref name="output"/>. Returns the exit code.</summary>
    public static int Serve(Scenario scenario, VariantKind kind, LabPlan plan, TextWriter output)
    {
        VariantResult result = VariantHost.Run(scenario, kind, plan, sample =>
        {
            output.WriteLine(JsonSerializer.Serialize(new Message(sample, null, null, null), s_json));
            output.Flush();
        });
        output.WriteLine(JsonSerializer.Serialize(new Message(null, [.. result.Notes], [.. result.LeakReports], result.LeakAnalysis), s_json));
        output.Flush();
        return 0;
    }

    /// <summary>
    /// Reads one line of a child's output; <see langword="null"/> for a line that is not a message. Tools the child
    /// starts write to the same output: the runtime's <c>createdump</c>, when a leak watcher's analysis dumps the child,
    /// prints its progress there.
    /// </summary>
    public static Message? Parse(string line) => line.StartsWith('{') ? JsonSerializer.Deserialize<Message>(line, s_json) : null;

    public static IEnumerable<string> Arguments(Scenario scenario, VariantKind kind, LabPlan plan, int? metricsPort = null) =>
    [
        Option, scenario.Key, kind == VariantKind.Naive ? "naive" : "safemem",
        "--steps", plan.Steps.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--interval-ms", ((int)plan.Interval.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture),
        .. metricsPort is { } port ? ["--metrics-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)] : Array.Empty<string>(),
    ];

    internal sealed record Message(Sample? Sample, string[]? Notes, LeakReportGroup[]? LeakReports, string? LeakAnalysis);
}
