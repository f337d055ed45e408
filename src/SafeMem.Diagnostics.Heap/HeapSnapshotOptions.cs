namespace SafeMem.Diagnostics.Heap;

/// <summary>Configures how a <see cref="HeapSnapshot"/> is taken.</summary>
/// <remarks>
/// Setters validate their own value. A snapshot reads the options once, when it is taken. Not thread-safe: configure
/// on one thread, then share read-only.
/// </remarks>
public sealed class HeapSnapshotOptions
{
    private string? _dumpDirectory;

    /// <summary>Gets or sets the directory the temporary dump is written to (it is deleted when the snapshot is disposed, or at once on Unix).</summary>
    /// <value>
    /// An existing directory, or <see langword="null"/> for the system's temporary directory. Defaults to
    /// <see langword="null"/>. Not empty. For another process, the target's <c>createdump</c> writes the file, so the
    /// directory must be writable by the target's user. The dump needs about as much free space as the process's memory.
    /// </value>
    public string? DumpDirectory
    {
        get => _dumpDirectory;
        set
        {
            if (value is not null)
            {
                ArgumentException.ThrowIfNullOrWhiteSpace(value);
            }

            _dumpDirectory = value;
        }
    }

    /// <summary>Gets or sets whether a snapshot of the current process first runs full, blocking, compacting collections (with finalizers run in between).</summary>
    /// <value>
    /// Defaults to <see langword="true"/>: the rows then count what the collection left (live objects, plus whatever
    /// other threads allocated between the collection and the dump). When <see langword="false"/>, and always for
    /// another process or a dump file, the rows count only the objects reachable from the roots the dump shows.
    /// </value>
    public bool CollectGarbage { get; set; } = true;

    /// <summary>Gets or sets whether the per-type rows are read when the snapshot is taken.</summary>
    /// <value>
    /// Defaults to <see langword="true"/>: the rows are read at once (a walk of the whole heap), then ClrMD's reader is
    /// released, so a snapshot kept for a later diff adds nothing to the next snapshot of this process, and the rows stay
    /// readable after <see cref="HeapSnapshot.Dispose"/>. When <see langword="false"/> (a caller that wants retention
    /// paths only), the rows are read on first use, which then throws <see cref="ObjectDisposedException"/> after disposal.
    /// </value>
    public bool SummarizeTypes { get; set; } = true;
}
