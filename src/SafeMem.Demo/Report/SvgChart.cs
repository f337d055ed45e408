using System.Globalization;
using System.Text;

namespace SafeMem.Demo.Report;

/// <summary>A line chart as inline SVG, with axes, ticks and grid lines; no script, no external file.</summary>
internal static class SvgChart
{
    private const int Left = 64;
    private const int Right = 16;
    private const int Top = 14;
    private const int Bottom = 34;

    /// <remarks>
    /// <c>kind</c> and <c>key</c> become the <c>data-chart</c> and <c>data-key</c> attributes; each series becomes a
    /// polyline carrying its variant, sample count and last value; <c>formatY</c> writes the y axis' tick labels.
    /// </remarks>
    public static string Render(string kind, string key, int width, int height, IReadOnlyList<ChartSeries> series, string xTitle, Func<double, string> formatY)
    {
        var all = series.SelectMany(s => s.Points).ToList();
        double xMax = Math.Max(1e-9, all.Count == 0 ? 1 : all.Max(p => p.X));
        double yMinData = all.Count == 0 ? 0 : Math.Min(0, all.Min(p => p.Y));
        double yMaxData = all.Count == 0 ? 1 : all.Max(p => p.Y);
        (double yMin, double yMax, double yStep) = NiceRange(yMinData, yMaxData);
        (_, double xEnd, double xStep) = NiceRange(0, xMax);

        double plotWidth = width - Left - Right;
        double plotHeight = height - Top - Bottom;
        double X(double x) => Left + (x / xEnd * plotWidth);
        double Y(double y) => Top + plotHeight - ((y - yMin) / (yMax - yMin) * plotHeight);

        var svg = new StringBuilder();
        svg.Append(Invariant($"<svg class=\"chart\" data-chart=\"{kind}\" data-key=\"{Html.Escape(key)}\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\">"));
        for (double y = yMin; y <= yMax + (yStep / 2); y += yStep)
        {
            svg.Append(Invariant($"<line class=\"grid\" x1=\"{Left}\" x2=\"{width - Right}\" y1=\"{Y(y):F1}\" y2=\"{Y(y):F1}\" />"));
            svg.Append(Invariant($"<text class=\"tick\" x=\"{Left - 6}\" y=\"{Y(y) + 4:F1}\" text-anchor=\"end\">{Html.Escape(formatY(y))}</text>"));
        }

        for (double x = 0; x <= xEnd + (xStep / 2); x += xStep)
        {
            svg.Append(Invariant($"<text class=\"tick\" x=\"{X(x):F1}\" y=\"{height - Bottom + 16}\" text-anchor=\"middle\">{x:0.##}</text>"));
        }

        svg.Append(Invariant($"<line class=\"axis\" x1=\"{Left}\" x2=\"{width - Right}\" y1=\"{Y(Math.Max(yMin, 0)):F1}\" y2=\"{Y(Math.Max(yMin, 0)):F1}\" />"));
        svg.Append(Invariant($"<text class=\"axis-title\" x=\"{Left + (plotWidth / 2):F1}\" y=\"{height - 4}\" text-anchor=\"middle\">{Html.Escape(xTitle)}</text>"));
        foreach (ChartSeries line in series)
        {
            string points = string.Join(' ', line.Points.Select(p => Invariant($"{X(p.X):F1},{Y(p.Y):F1}")));
            double last = line.Points.Count == 0 ? 0 : line.Points[^1].Y;
            svg.Append(Invariant($"<polyline class=\"series {line.Variant}\" data-variant=\"{line.Variant}\" data-samples=\"{line.Points.Count}\" data-last=\"{last:R}\" points=\"{points}\"><title>{Html.Escape(line.Label)}</title></polyline>"));
        }

        svg.Append("</svg>");
        return svg.ToString();
    }

    /// <summary>Axis bounds on round numbers (1, 2 or 5 times a power of ten), about five ticks.</summary>
    internal static (double Min, double Max, double Step) NiceRange(double min, double max)
    {
        if (max - min < 1e-9)
        {
            max = min + 1;
        }

        double rough = (max - min) / 5;
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        double step = new[] { 1.0, 2.0, 5.0, 10.0 }.Select(f => f * magnitude).First(s => s >= rough);
        return (Math.Floor(min / step) * step, Math.Ceiling(max / step) * step, step);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
