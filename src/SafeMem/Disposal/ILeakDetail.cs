namespace SafeMem.Disposal;

/// <summary>
/// What a block that tracks its own objects (a scope, a pool) adds to the tracker's handling of one tracked object. The
/// tracker's sentinel holds it strongly, so it must not refer to the tracked object itself.
/// </summary>
internal interface ILeakDetail
{
    /// <summary>Gets a value indicating whether the object, found unreachable and open, really leaked (an empty scope did not).</summary>
    bool IsLeak { get; }

    /// <summary>Describes the leak for the report, or returns null. Called on the finalizer thread: short, no locks.</summary>
    string? Describe();

    /// <summary>Counts the leak in the owning block. Called on the finalizer thread: short, no locks.</summary>
    void OnLeaked();
}
