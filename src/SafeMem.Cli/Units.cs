using System.Globalization;

namespace SafeMem.Cli;

/// <summary>Figures as the reports print them: invariant culture, so that a report reads the same on every machine.</summary>
internal static class Units
{
    /// <summary>Bytes with a binary unit and three significant digits: 812 B, 4.07 KB, 1.2 GB.</summary>
    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KB", "MB", "GB", "TB"];
        double value = Math.Abs((double)bytes);
        int unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        string sign = bytes < 0 ? "-" : string.Empty;
        string number = unit == 0 ? value.ToString("0", CultureInfo.InvariantCulture)
            : value.ToString(value >= 100 ? "0" : value >= 10 ? "0.0" : "0.00", CultureInfo.InvariantCulture);
        return $"{sign}{number} {units[unit]}";
    }

    /// <summary>A count with thousands separators: 12,345.</summary>
    public static string Count(long count) => count.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A signed count: +1,200 or -3, and 0 without a sign.</summary>
    public static string Signed(long count) => count > 0 ? "+" + Count(count) : Count(count);

    /// <summary>A duration in seconds with one decimal: 2.4 s.</summary>
    public static string Seconds(TimeSpan duration) => duration.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s";
}
