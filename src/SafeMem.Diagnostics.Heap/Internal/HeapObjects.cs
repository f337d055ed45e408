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
    /// Whether the type belongs to an inspection of this very process (this library, SafeMem.Testing, ClrMD, the
    /// diagnostics client): a snapshot of the current process leaves those out of its rows, since they exist only
    /// because someone is looking.
    /// </summary>
    public static bool IsInspectorType(ClrType type, TypeNames names)
        => IsInspectorModule(type.Module?.Name, includeTesting: true) || Involves(type, names, includeTesting: true);

    /// <summary>
    /// Whether what an object of this type refers to exists for the inspection too: the engine's own objects (a kept
    /// snapshot's file stream, its rows' type names and runtime types) and ClrMD's. Not SafeMem.Testing's: an
    /// assertion's closures refer to the user's code under test, whose objects must be counted.
    /// </summary>
    public static bool OwnsWhatItReferences(ClrType type, TypeNames names)
        => IsInspectorModule(type.Module?.Name, includeTesting: false) || Involves(type, names, includeTesting: false);

    /// <summary>
    /// Count and bytes per type of every object on the heap, less the inspection's footprint when
    /// <paramref name="names"/> is given (a snapshot of this process): every object reachable from an object of a type
    /// <see cref="OwnsWhatItReferences"/> accepts.
    /// </summary>
    public static Dictionary<ulong, (ClrType Type, long Count, long Bytes)> SummarizeAll(ClrHeap heap, TypeNames? names)
    {
        var totals = new Dictionary<ulong, (ClrType Type, long Count, long Bytes)>();
        var owners = new Dictionary<ulong, bool>();
        var footprintRoots = new List<ulong>();
        foreach (ClrObject obj in heap.EnumerateObjects())
        {
            if (obj.IsFree || obj.Type is not { } type)
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
            if (names is not null && IsOwner(type))
            {
                footprintRoots.Add(obj.Address);
            }
        }

        if (names is not null)
        {
            Subtract(heap, totals, Footprint(heap, footprintRoots), counted: null);
        }

        return totals;

        bool IsOwner(ClrType type)
        {
            ref bool owner = ref CollectionsMarshal.GetValueRefOrAddDefault(owners, type.MethodTable, out bool known);
            if (!known)
            {
                owner = OwnsWhatItReferences(type, names!);
            }

            return owner;
        }
    }

    /// <summary>The objects of this process's own inspection: every object reachable from an object of a type <see cref="OwnsWhatItReferences"/> accepts.</summary>
    public static HashSet<ulong> InspectionFootprint(ClrHeap heap, TypeNames names)
    {
        var owners = new Dictionary<ulong, bool>();
        return Footprint(heap, heap.EnumerateObjects()
            .Where(o => !o.IsFree && o.Type is { } type && (owners.TryGetValue(type.MethodTable, out bool owner) ? owner : owners[type.MethodTable] = OwnsWhatItReferences(type, names)))
            .Select(o => o.Address));
    }

    /// <summary>Takes the given objects out of per-type totals (those <paramref name="counted"/> holds, when given).</summary>
    public static void Subtract(ClrHeap heap, Dictionary<ulong, (ClrType Type, long Count, long Bytes)> totals, HashSet<ulong> objects, HashSet<ulong>? counted)
    {
        foreach (ulong address in objects)
        {
            ClrObject obj = heap.GetObject(address);
            if ((counted is null || counted.Contains(address)) && obj.Type is { } type && totals.TryGetValue(type.MethodTable, out var total))
            {
                totals[type.MethodTable] = (total.Type, total.Count - 1, total.Bytes - (long)obj.Size);
            }
        }
    }

    /// <summary>The objects reachable from <paramref name="roots"/> (the roots included), following plain references only.</summary>
    private static HashSet<ulong> Footprint(ClrHeap heap, IEnumerable<ulong> roots)
    {
        var reached = new HashSet<ulong>();
        var stack = new Stack<ulong>();
        foreach (ulong root in roots)
        {
            if (reached.Add(root))
            {
                stack.Push(root);
            }
        }

        while (stack.TryPop(out ulong address))
        {
            foreach (ulong reference in heap.GetObject(address).EnumerateReferenceAddresses(carefully: false, considerDependantHandles: false))
            {
                if (reference != 0 && reached.Add(reference))
                {
                    stack.Push(reference);
                }
            }
        }

        return reached;
    }

    /// <summary>A generic instantiation or an array over the inspection's types (List&lt;HeapTypeSummary&gt;, HeapGrowthSample[]) lives in its definition's module (CoreLib) but exists for the same reason.</summary>
    private static bool Involves(ClrType type, TypeNames names, bool includeTesting)
    {
        return (type.IsArray || type.Name?.Contains('<', StringComparison.Ordinal) == true) && names.Resolve(type) is { } resolved && Check(resolved);

        bool Check(Type t)
            => t.HasElementType ? Check(t.GetElementType()!)
                : IsInspectorModule(t.Assembly.GetName().Name + ".dll", includeTesting) || (t.IsConstructedGenericType && t.GetGenericArguments().Any(Check));
    }

    private static bool IsInspectorModule(string? module, bool includeTesting)
        => module is not null
            && (module.EndsWith("SafeMem.Diagnostics.Heap.dll", StringComparison.OrdinalIgnoreCase)
                || (includeTesting && module.EndsWith("SafeMem.Testing.dll", StringComparison.OrdinalIgnoreCase))
                || module.EndsWith("Microsoft.Diagnostics.Runtime.dll", StringComparison.OrdinalIgnoreCase)
                || module.EndsWith("Microsoft.Diagnostics.NETCore.Client.dll", StringComparison.OrdinalIgnoreCase));

    /// <summary>Rows from per-type totals (types <paramref name="exclude"/> accepts left out), largest total first.</summary>
    public static List<HeapTypeSummary> Rows(Dictionary<ulong, (ClrType Type, long Count, long Bytes)> totals, TypeNames names, Func<ClrType, bool> exclude)
        => totals
            .Where(pair => pair.Value.Count > 0 && !exclude(pair.Value.Type))
            .Select(pair => new HeapTypeSummary(pair.Key, names.Resolve(pair.Value.Type), names.FullName(pair.Value.Type), pair.Value.Count, pair.Value.Bytes))
            .OrderByDescending(row => row.Bytes)
            .ThenByDescending(row => row.Count)
            .ThenBy(row => row.TypeName, StringComparer.Ordinal)
            .ToList();
}
