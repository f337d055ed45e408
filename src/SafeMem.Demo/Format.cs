using System.Globalization;

namespace SafeMem.Demo;

/// <summary>How the lab writes numbers, the same in the terminal, the summary and the report.</summary>
internal static class Format
{
    public static string Megabytes(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024.0):F1} MB");

    /// <summary>A signed growth, <c>+12.3 MB</c> or <c>-0.1 MB</c>.</summary>
    public static string Growth(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{(bytes >= 0 ? "+" : "-")}{Math.Abs(bytes) / (1024.0 * 1024.0):F1} MB");

    public static string Count(double value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Value(double value, bool bytes) => bytes ? Megabytes((long)value) : Count(value);
}
