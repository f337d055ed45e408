using Microsoft.Diagnostics.Runtime;
using SafeMem.Diagnostics.Heap.Internal;

namespace SafeMem.Diagnostics.Heap;

/// <content>What a <see cref="HeapSnapshotRecord"/> reads from a snapshot while its dump is open.</content>
public sealed partial class HeapSnapshot
{
    /// <summary>Groups every reachable object by type and retention path signature (one walk of the whole heap).</summary>
    /// <exception cref="ObjectDisposedException">The snapshot was disposed.</exception>
    internal List<RetentionGroupData> SummarizeRetentionGroups(int maxGroupsPerType)
    {
        lock (_sync)
        {
            Func<ClrType, bool> exclude = IsCurrentProcess ? type => HeapObjects.IsInspectorType(type, _names) : static _ => false;
            return Graph.SummarizeGroups(exclude, maxGroupsPerType);
        }
    }

    /// <summary>The full name of a type of this snapshot's dump, as its rows write it.</summary>
    internal string TypeNameOf(ClrType type) => _names.FullName(type);
}
