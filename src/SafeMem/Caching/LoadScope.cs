namespace SafeMem.Caching;

/// <summary>
/// Tracks which cache loads the current logical call (thread or async flow) is running the factory of, so a factory
/// that asks the same cache for the same key gets a clear exception instead of waiting for itself forever.
/// </summary>
/// <remarks>
/// An <see cref="AsyncLocal{T}"/> flows into the factory's awaits and into work it starts (a <c>Task.Run</c> that the
/// factory waits on counts as the factory), which is exactly the set of callers that would deadlock. It is set only
/// around factory calls, so the hit path never touches it.
/// </remarks>
internal static class LoadScope
{
    private static readonly AsyncLocal<Frame?> s_current = new();

    /// <summary>Marks <paramref name="load"/> as running in this flow; returns what to restore with <see cref="Exit"/>.</summary>
    public static Frame? Enter(object load)
    {
        Frame? previous = s_current.Value;
        s_current.Value = new Frame(load, previous);
        return previous;
    }

    public static void Exit(Frame? previous) => s_current.Value = previous;

    /// <summary>True when the current flow is inside the factory of <paramref name="load"/>.</summary>
    public static bool IsActive(object load)
    {
        for (Frame? frame = s_current.Value; frame is not null; frame = frame.Parent)
        {
            if (ReferenceEquals(frame.Load, load))
            {
                return true;
            }
        }

        return false;
    }

    internal sealed class Frame(object load, Frame? parent)
    {
        public object Load { get; } = load;

        public Frame? Parent { get; } = parent;
    }
}
