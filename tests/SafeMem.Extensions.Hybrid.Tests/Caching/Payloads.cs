using System.Globalization;

namespace SafeMem.Extensions.Hybrid.Tests.Caching;

/// <summary>
/// Values whose every byte follows from their key, so any value read anywhere (another node, after an outage, after
/// an eviction) can be checked for corruption or for belonging to another key.
/// </summary>
public static class Payloads
{
    public static string Key(int i) => "k" + i.ToString(CultureInfo.InvariantCulture);

    public static byte[] For(string key, int length)
    {
        var value = new byte[length];
        uint seed = Seed(key);
        for (int i = 0; i < value.Length; i++)
        {
            value[i] = (byte)(seed + (uint)i * 31);
        }

        return value;
    }

    /// <summary>Fails unless <paramref name="value"/> is <paramref name="key"/>'s payload (of <paramref name="length"/> bytes, when given).</summary>
    public static void Verify(string key, byte[]? value, int? length = null)
    {
        Assert.NotNull(value);
        if (length is { } expected)
        {
            Assert.Equal(expected, value.Length);
        }

        uint seed = Seed(key);
        for (int i = 0; i < value.Length; i++)
        {
            if (value[i] != (byte)(seed + (uint)i * 31))
            {
                Assert.Fail($"The value read for '{key}' is corrupt or another key's: byte {i} of {value.Length} differs.");
            }
        }
    }

    // FNV-1a: stable across processes, unlike string.GetHashCode.
    private static uint Seed(string key)
    {
        uint hash = 2166136261;
        foreach (char c in key)
        {
            hash = (hash ^ c) * 16777619;
        }

        return hash;
    }
}
