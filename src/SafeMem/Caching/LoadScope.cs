using System.Diagnostics.CodeAnalysis;

namespace SafeMem.Caching;

/// <summary>
/// Tracks which cache loads the current logical call (thread or async flow) is running the factory of, so that a
/// factory that would wait for itself, directly (its own key) or through other factories (a cycle of keys, of one
/// cache or several), gets a clear exception instead of waiting forever.
/// </summary>
/// <remarks>
/// <para>An <see cref="AsyncLocal{T}"/> flows into the factory's awaits and into work it starts (a <c>Task.Run</c> that
/// the factory waits on counts as the factory), which is exactly the set of callers that would deadlock. It is set only
/// around factory calls, so the hit path never touches it, and a caller outside every factory skips the cycle check
/// (nothing can be waiting for it).</para>
/// <para><b>Cycles.</b> A flow inside factories that is about to wait for load L marks each load it is running as
/// waiting for L (<see cref="CacheLoad.WaitingOn"/>), issues a full fence, then follows L's WaitingOn chain: reaching
/// one of its own loads means every load on the chain waits for the next, back to itself. Two flows closing a cycle
/// at the same moment each write their mark before they read the other's (store, fence, load on both sides), so at
/// least one of them sees the cycle; both may, and both then throw. The check is best effort in one respect: several
/// flows working for one factory at once share its single mark, so a cycle through the flow that wrote it last is
/// found and others may not be.</para>
/// </remarks>
internal static class LoadScope
{
    // Longer chains than this are not followed (a guard against a chain that changes while it is read).
    private const int MaxChain = 1024;

    private static readonly AsyncLocal<Frame?> s_current = new();

    /// <summary>Marks <paramref name="load"/> as running in this flow; returns what to restore with <see cref="Exit"/>.</summary>
    public static Frame? Enter(CacheLoad load)
    {
        Frame? previous = s_current.Value;
        s_current.Value = new Frame(load, previous);
        return previous;
    }

    public static void Exit(Frame? previous) => s_current.Value = previous;

    /// <summary>True when the current flow is inside the factory of <paramref name="load"/>.</summary>
    public static bool IsActive(CacheLoad load) => Contains(s_current.Value, load);

    /// <summary>
    /// Announces that this flow is about to wait for <paramref name="target"/>, or throws when that wait would close a
    /// cycle. Dispose the result when the wait is over.
    /// </summary>
    public static Wait BeginWait(CacheLoad target, object key)
    {
        Frame? frames = s_current.Value;
        if (frames is null)
        {
            return default;
        }

        for (Frame? frame = frames; frame is not null; frame = frame.Parent)
        {
            Volatile.Write(ref frame.Load.WaitingOn, target);
        }

        // Store (our marks), fence, load (theirs): see the remarks for why one of two racing flows sees the cycle.
        Interlocked.MemoryBarrier();
        CacheLoad? next = target;
        for (int i = 0; i < MaxChain && next is not null; i++)
        {
            if (Contains(frames, next))
            {
                new Wait(frames, target).Dispose();
                ThrowCycle(key);
            }

            next = Volatile.Read(ref next.WaitingOn);
        }

        return new Wait(frames, target);
    }

    private static bool Contains(Frame? frames, CacheLoad load)
    {
        for (Frame? frame = frames; frame is not null; frame = frame.Parent)
        {
            if (ReferenceEquals(frame.Load, load))
            {
                return true;
            }
        }

        return false;
    }

    [DoesNotReturn]
    private static void ThrowCycle(object key)
        => throw new InvalidOperationException(
            $"A factory asked for key '{key}', whose load waits (through other GetOrAdd factories) for this factory's own load: a cycle of factories that would wait for each other forever. Load one of these values without going through the cache, or break the cycle.");

    internal sealed class Frame(CacheLoad load, Frame? parent)
    {
        public CacheLoad Load { get; } = load;

        public Frame? Parent { get; } = parent;
    }

    /// <summary>A wait announced by <see cref="BeginWait"/>; disposing it takes the marks back.</summary>
    internal readonly struct Wait(Frame? frames, CacheLoad? target) : IDisposable
    {
        public void Dispose()
        {
            for (Frame? frame = frames; frame is not null; frame = frame.Parent)
            {
                // Only our own mark: a flow that works for the same load and waits on something else keeps its mark.
                Interlocked.CompareExchange(ref frame.Load.WaitingOn, null, target);
            }
        }
    }
}
