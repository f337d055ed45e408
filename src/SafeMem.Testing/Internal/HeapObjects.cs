using Microsoft.Diagnostics.Runtime;

namespace SafeMem.Testing.Internal;

/// <summary>Walks the objects of a dump: matching by predicate, and per-type totals.</summary>
internal static class HeapObjects
{
    /// <summary>The addresses of the objects a predicate accepts, in heap order.</summary>
    /// <remarks>The predicate is user code: its exceptions propagate unchanged (the caller disposes the dump).</remarks>
    public static List<ulong> Matching(ClrHeap heap, Func<HeapObject, bool> predicate)
    {
        var names = new Dictionary<ulong, (Type?, string)>();
        var matches = new List<ulong>();
        foreach (ClrObject obj in heap.EnumerateObjects())
        {
            if (obj.IsFree || obj.Type is not { } type)
            {
                continue;
            }

            if (!names.TryGetValue(type.MethodTable, out (Type? Type, string Name) info))
            {
                info = (TypeNames.Resolve(type), TypeNames.FullName(type));
                names[type.MethodTable] = info;
            }

            if (predicate(new HeapObject(info.Type, info.Name, (long)obj.Size)))
            {
                matches.Add(obj.Address);
            }
        }

        return matches;
    }

    /// <summary>
    /// Whether the type belongs to the inspection itself (this library, ClrMD, the diagnostics client): a snapshot
    /// leaves those out, since they exist only because someone is looking.
    /// </summary>
    private static bool IsInspectorType(ClrType type)
    {
        string? module = type.Module?.Name;
        return module is not null
            && (module.EndsWith("SafeMem.Testing.dll", StringComparison.OrdinalIgnoreCase)
                || module.EndsWith("Microsoft.Diagnostics.Runtime.dll", StringComparison.OrdinalIgnoreCase)
                || module.EndsWith("Microsoft.Diagnostics.NETCore.Client.dll", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Count and bytes per type (types of the inspection itself left out), largest total first.</summary>
    public static List<HeapTypeSummary> Summarize(ClrHeap heap)
    {
        var totals = new Dictionary<ulong, (ClrType Type, long Count, long Bytes)>();
        foreach (ClrObject obj in heap.EnumerateObjects())
        {
            if (obj.IsFree || obj.Type is not { } type || IsInspectorType(type))
            {
                continue;
            }

            ref var total = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(totals, type.MethodTable, out bool exists);
            if (!exists)
            {
                total.Type = type;
            }

            total.Count++;
            total.Bytes += (long)obj.Size;
        }

        return totals
            .Select(pair => new HeapTypeSummary(pair.Key, TypeNames.Resolve(pair.Value.Type), TypeNames.FullName(pair.Value.Type), pair.Value.Count, pair.Value.Bytes))
            .OrderByDescending(row => row.Bytes)
            .ThenByDescending(row => row.Count)
            .ThenBy(row => row.TypeName, StringComparer.Ordinal)
            .ToList();
    }
}
