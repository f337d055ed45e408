namespace SafeMem.Demo.Report;

/// <summary>One line of a chart: its legend label, the variant it belongs to (its CSS class), and its points.</summary>
internal sealed record ChartSeries(string Label, string Variant, IReadOnlyList<(double X, double Y)> Points);
