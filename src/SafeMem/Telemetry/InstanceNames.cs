using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace SafeMem.Telemetry;

/// <summary>
/// Gives every block instance the name its measurements are tagged with (<see cref="SafeMemTags.Name"/>).
/// </summary>
/// <remarks>
/// An instance the user did not name gets <c>&lt;block&gt;-&lt;n&gt;</c> (<c>cache-1</c>, <c>cache-2</c>, ...), numbered per block kind
/// in creation order. A shared fixed default ("default") would make an exporter merge two unnamed instances into one
/// series, so that one instance's figures silently vanish. The numbering state is one counter per block kind: bounded.
/// </remarks>
internal static class InstanceNames
{
    private static readonly ConcurrentDictionary<string, StrongBox<long>> s_counters = new(StringComparer.Ordinal);

    /// <summary>
    /// Checks the value given to an options class's <c>Name</c>: <see langword="null"/> (a name is generated) or a name
    /// that is not empty or white space. Returns it, for setters to store.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or white space (the parameter is named <c>Name</c>, after the option).</exception>
    public static string? CheckOption(string? name)
    {
        if (name is not null)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(name, "Name");
        }

        return name;
    }

    /// <summary>Returns <paramref name="name"/> when the user gave one, else the next generated name for <paramref name="block"/>.</summary>
    public static string Resolve(string? name, string block)
    {
        if (name is not null)
        {
            return name;
        }

        StrongBox<long> counter = s_counters.GetOrAdd(block, static _ => new StrongBox<long>());
        long n = Interlocked.Increment(ref counter.Value);
        return block + "-" + n.ToString(CultureInfo.InvariantCulture);
    }
}
