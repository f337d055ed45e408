namespace SafeMem.Telemetry;

/// <summary>
/// Builds and checks instrument names so every block follows one convention:
/// <c>safemem.&lt;block&gt;.&lt;what&gt;</c>, lowercase, dot-separated segments of letters, digits and underscores.
/// </summary>
/// <remarks>
/// Counters of countable things are plural (<c>safemem.cache.removals</c>); up-down counters and gauges are singular
/// (<c>safemem.cache.entry.count</c>). The shape is
/// checked here, at instrument creation, so a malformed name fails the first test that creates the block, and the
/// vocabulary (docs/telemetry.md) is checked over every instrument by InstrumentVocabularyTests.
/// </remarks>
internal static class InstrumentNames
{
    public const string Prefix = "safemem.";

    /// <summary>Returns <c>safemem.{block}.{what}</c> after checking its shape.</summary>
    public static string For(string block, string what)
    {
        string name = Prefix + block + "." + what;
        Validate(name);
        return name;
    }

    /// <summary>Throws <see cref="ArgumentException"/> when <paramref name="name"/> does not follow the convention.</summary>
    public static void Validate(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!IsValid(name))
        {
            throw new ArgumentException(
                $"Instrument name '{name}' must look like 'safemem.<block>.<what>': at least three lowercase dot-separated segments of [a-z0-9_], starting with 'safemem.'.",
                nameof(name));
        }
    }

    public static bool IsValid(string name)
    {
        if (name is null || !name.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        int segments = 1;
        int segmentLength = 0;
        foreach (char c in name.AsSpan(Prefix.Length))
        {
            if (c == '.')
            {
                if (segmentLength == 0)
                {
                    return false;
                }

                segments++;
                segmentLength = 0;
            }
            else if (c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_')
            {
                segmentLength++;
            }
            else
            {
                return false;
            }
        }

        return segmentLength > 0 && segments >= 2;
    }
}
