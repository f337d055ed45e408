using System.Runtime.InteropServices;
using Microsoft.Diagnostics.Runtime;

namespace SafeMem.Diagnostics.Heap.Internal;

/// <summary>Walks the objects of a dump: matching by predicate, and per-type totals.</summary>
internal static class HeapObjects
{
    /// <summary>The objects a predicate accepts, in heap order.</summary>
    /// <remarks>The predicate is user code: its exceptions propagate unchanged (the caller keeps the dump consistent).</remarks>
    public static List<HeapObject> Matching(ClrHeap heap, TypeNames names, Func<HeapObject, bool> predicate)
    {
        var types = new Dictionary<ulong, (Type?, string)>();
        var matches = new List<HeapObject>();
        foreach (ClrObject obj in heap.EnumerateObjects())
        {
            if (obj.IsFree || obj.Type is not { } type)
            {
                continue;
            }

            if (!types.TryGetValue(type.MethodTable, out (Type? Type, string Name) info))
            {
                info = (names.Resolve(type), names.FullName(type));
                types[type.MethodTable] = info;
            }

            var candidate = new HeapObject(obj.Address, info.Type, info.Name, (long)obj.Size);
            if (predicate(candidate))
            {
                matches.Add(candidate);
            }
        }

        return matches;
    }

    /// <summary>
    /// Whether the type belongs to an inspection of this very process (this library, ClrMD, the diagnostics client):
    /// a snapshot of the current process leaves those out, since they exist only because someone is looking.
    /// </summary>
    public static bool IsInspectorType(ClrType type)
    {
        string? module = type.Module?.Name;
        return module is not null
            && (module.EndsWith("SafeMem.Diagnostics.Heap.dll", StringComparison.OrdinalIgnoreCase)
                || module.EndsWith("SafeMem.Testing.dll", StringComparison.OrdinalIgnoreCase)
                || module.EndsWith("Microsoft.Diagnostics.Runtime.dll", StringComparison.OrdinalIgnoreCase)
                || module.EndsWith("Microsoft.Diagnostics.NETCore.Client.dll", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Count and bytes per type of every object on the heap (types <paramref name="exclude"/> accepts left out).</summary>
    public static Dictionary<ulong, (ClrType Type, long Count, long Bytes)> SummarizeAll(ClrHeap heap, Func<ClrType, bool> exclude)
    {
        var totals = new Dictionary<ulong, (ClrType Type, long Count, long Bytes)>();
        foreach (ClrObject obj in heap.EnumerateObjects())
        {
            if (obj.IsFree || obj.Type is not { } type || exclude(type))
            {
                continue;
            }

            ref var total = ref CollectionsMarshal.GetValueRefOrAddDefault(totals, type.MethodTable, out bool exists);
            if (!exists)
            {
                total.Type = type;
            }

            total.Count++;
            total.Bytes += (long)obj.Size;
        }

        return totals;
    }

    /// <summary>Rows from per-type totals, largest total first.</summary>
    public static List<HeapTypeSummary> Rows(Dictionary<ulong, (ClrType Type, long Count, long Bytes)> totals, TypeNames names)
        => totals
            .Select(pair => new HeapTypeSummary(pair.Key, names.Resolve(pair.Value.Type), names.FullName(pair.Value.Type), pair.Value.Count, pair.Value.Bytes))
            .OrderByDescending(row => row.Bytes)
            .ThenByDescending(row => row.Count)
            .ThenBy(row => row.TypeName, StringComparer.Ordinal)
            .ToList();
}
