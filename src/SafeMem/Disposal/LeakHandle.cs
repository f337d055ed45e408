namespace SafeMem.Disposal;

/// <summary>
/// The handle <see cref="LeakTracker.Track"/> returns: disposing it tells the tracker that the tracked object was
/// disposed properly, so it is never reported.
/// </summary>
/// <remarks>
/// <para>
/// A struct, so an object the sampler skipped costs no allocation: the default handle tracks nothing and disposing it
/// does nothing. Keep the handle in a field of the tracked object and dispose it from the object's <c>Dispose</c>; a
/// copy of the handle closes the same record. Disposing is idempotent and thread-safe; only the first call counts.
/// </para>
/// <para>
/// Do not keep the handle anywhere that outlives the tracked object: it refers to the tracker's record of the object,
/// which refers to the tracker (not to the object) while it is open, so a stray handle of an undisposed object keeps the
/// record and the tracker alive. Disposing the handle closes the record, which then lets go of the tracker.
/// </para>
/// </remarks>
public readonly struct LeakHandle : IDisposable, IEquatable<LeakHandle>
{
    private readonly LeakSentinel? _sentinel;

    internal LeakHandle(LeakSentinel sentinel) => _sentinel = sentinel;

    /// <summary>Gets a value indicating whether the object was sampled and is being tracked (and not yet closed).</summary>
    public bool IsTracking => _sentinel is { IsOpen: true };

    /// <summary>Compares two handles: equal when they close the same record (all untracked handles are equal).</summary>
    /// <param name="left">The first handle.</param>
    /// <param name="right">The second handle.</param>
    /// <returns><see langword="true"/> if the handles are equal.</returns>
    public static bool operator ==(LeakHandle left, LeakHandle right) => left.Equals(right);

    /// <summary>Compares two handles: different when they close different records.</summary>
    /// <param name="left">The first handle.</param>
    /// <param name="right">The second handle.</param>
    /// <returns><see langword="true"/> if the handles differ.</returns>
    public static bool operator !=(LeakHandle left, LeakHandle right) => !left.Equals(right);

    /// <summary>Closes the record: the object was disposed and will never be reported. Idempotent.</summary>
    public void Dispose() => _sentinel?.Close();

    /// <inheritdoc/>
    public bool Equals(LeakHandle other) => ReferenceEquals(_sentinel, other._sentinel);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is LeakHandle other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => _sentinel is null ? 0 : System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(_sentinel);
}
