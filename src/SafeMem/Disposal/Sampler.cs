using System.Runtime.CompilerServices;

namespace SafeMem.Disposal;

/// <summary>
/// Decides, per call, whether to sample, with a given probability: a thread-local xorshift generator, so a decision costs
/// a thread-static read and a few shifts, no lock and no shared write.
/// </summary>
/// <remarks>
/// Decisions are independent Bernoulli trials (as Netty's sampled leak detection makes them), not every n-th call: a
/// fixed stride would line up with loops in the caller and sample the same call site forever.
/// </remarks>
internal readonly struct Sampler
{
    [ThreadStatic]
    private static uint t_state;

    // 0: never; uint.MaxValue with _all: always; otherwise sample when the next value is below the threshold.
    private readonly uint _threshold;
    private readonly bool _all;

    public Sampler(double rate)
    {
        _all = rate >= 1;
        // xorshift32 yields 1 .. 2^32-1 uniformly, so P(x < t) = (t - 1) / (2^32 - 1): the rate, to within 2^-32.
        _threshold = _all ? uint.MaxValue : (uint)Math.Min(uint.MaxValue, Math.Round(rate * 4294967296.0));
    }

    /// <summary>Gets a value indicating whether no call is ever sampled.</summary>
    public bool IsNever => !_all && _threshold == 0;

    /// <summary>Gets a value indicating whether every call is sampled.</summary>
    public bool IsAlways => _all;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Next()
    {
        if (_all)
        {
            return true;
        }

        if (_threshold == 0)
        {
            return false;
        }

        uint x = t_state;
        if (x == 0)
        {
            x = Seed();
        }

        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        t_state = x;
        return x < _threshold;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static uint Seed() => (uint)Random.Shared.Next() | 1;
}
