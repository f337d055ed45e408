using Microsoft.Diagnostics.Runtime;

namespace SafeMem.Diagnostics.Heap.Internal;

/// <content>
/// One breadth-first walk of the whole heap that groups every reachable object by its type and the signature of its
/// shortest retention path, for snapshot records (which keep the groups after the dump is gone).
/// </content>
internal sealed partial class RetentionGraph
{
    /// <summary>
    /// Walks the whole heap from the roots, in the two phases <see cref="Walk"/> uses (handles, statics and the
    /// finalizer queue, then stacks), and groups the reachable objects by type and path signature: per group its count,
    /// bytes and the path of its last object reached (for a collection, the element at its highest index: most often
    /// the newest).
    /// </summary>
    /// <param name="exclude">Types whose objects are followed but not grouped.</param>
    /// <param name="maxGroupsPerType">The most groups kept per type (largest first); the rest are counted in no group.</param>
    /// <remarks>
    /// Paths are labelled while the walk runs, from the field or element each reference comes through, so the cost is
    /// one visit per object and reference; only the examples are described as <see cref="Describe"/> does, so that
    /// their signatures are exactly those <see cref="GroupPaths"/> gives. The walk's own grouping key (the owner's
    /// method table and the field offset, per hop) is at least as fine as the signature: groups whose examples share
    /// a signature are merged.
    /// </remarks>
    public List<RetentionGroupData> SummarizeGroups(Func<ClrType, bool> exclude, int maxGroupsPerType)
    {
        // Per reached object: its shape (the path with indexes left out, as an id in a trie of hops) and its parent.
        var nodes = new Dictionary<ulong, Node>();
        var shapes = new Dictionary<(int Parent, HopKey Hop), int>();
        var rootShapes = new Dictionary<string, int>(StringComparer.Ordinal);
        var groups = new Dictionary<(ulong MethodTable, int Shape), GroupAccumulator>();
        var rootOf = new Dictionary<ulong, int>();
        var level = new List<ulong>();

        SeedLevel(stacks: false);
        for (int phase = 0; phase < 2; phase++)
        {
            while (level.Count > 0)
            {
                var next = new List<ulong>();
                foreach (ulong address in level)
                {
                    ClrObject obj = _heap.GetObject(address);
                    if (obj.Type is not { } type)
                    {
                        continue;
                    }

                    Node node = nodes[address];
                    if (!exclude(type))
                    {
                        ref GroupAccumulator group = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(groups, (type.MethodTable, node.Shape), out _);
                        group.Type = type;
                        group.Count++;
                        group.Bytes += (long)obj.Size;
                        group.Example = address;
                    }

                    foreach (ClrReference reference in obj.EnumerateReferencesWithFields(carefully: false, considerDependantHandles: true))
                    {
                        ulong child = reference.Object.Address;
                        if (child == 0 || nodes.ContainsKey(child))
                        {
                            continue;
                        }

                        int shape;
                        if (type.IsArray && StaticSlots.TryGetValue(address + (ulong)reference.Offset, out var field))
                        {
                            // A slot of the runtime's statics table: the path starts again at the field, as Describe does.
                            shape = RootShape($"static field {_names.FullName(field.Type)}.{field.Field.Name}");
                        }
                        else
                        {
                            HopKey hop = HopKeyOf(obj, type, reference);
                            if (!shapes.TryGetValue((node.Shape, hop), out shape))
                            {
                                shape = shapes.Count + rootShapes.Count;
                                shapes.Add((node.Shape, hop), shape);
                            }
                        }

                        nodes.Add(child, new Node(shape, address));
                        next.Add(child);
                    }
                }

                level = next;
            }

            if (phase == 0)
            {
                SeedLevel(stacks: true);
            }
        }

        // Describe one example per group, merge groups whose examples share a signature, keep the largest per type.
        var merged = new Dictionary<(ulong MethodTable, string Signature), RetentionGroupData>();
        foreach (((ulong methodTable, _), GroupAccumulator group) in groups)
        {
            RetentionPath example = DescribeChain(group.Example);
            var key = (methodTable, example.Signature);
            merged[key] = merged.TryGetValue(key, out RetentionGroupData? existing)
                ? existing with { Count = existing.Count + group.Count, Bytes = existing.Bytes + group.Bytes }
                : new RetentionGroupData(group.Type, example, group.Count, group.Bytes);
        }

        return merged.Values
            .GroupBy(g => g.Type.MethodTable)
            .SelectMany(byType => byType.OrderByDescending(g => g.Count).ThenBy(g => g.Example.Signature, StringComparer.Ordinal).Take(maxGroupsPerType))
            .ToList();

        void SeedLevel(bool stacks)
        {
            level.Clear();
            for (int i = 0; i < _roots.Count; i++)
            {
                Root root = _roots[i];
                if ((root.Kind == RetentionRootKind.StackLocal) == stacks && root.Object != 0 && !nodes.ContainsKey(root.Object))
                {
                    nodes.Add(root.Object, new Node(RootShape(root.Description), 0));
                    rootOf[root.Object] = i;
                    level.Add(root.Object);
                }
            }
        }

        int RootShape(string description)
        {
            // Thread ids differ between otherwise equal stack roots: one shape for all of them, as the signature has.
            string key = RetentionPath.Generalize(description);
            if (!rootShapes.TryGetValue(key, out int id))
            {
                id = shapes.Count + rootShapes.Count;
                rootShapes.Add(key, id);
            }

            return id;
        }

        RetentionPath DescribeChain(ulong target)
        {
            var chain = new List<ulong>();
            for (ulong current = target; current != 0; current = nodes[current].Parent)
            {
                chain.Add(current);
            }

            chain.Reverse();
            var search = new Search();
            search.RootOf[chain[0]] = rootOf[chain[0]];
            return Describe(chain, search, hopCache: null);
        }
    }

    private static HopKey HopKeyOf(ClrObject from, ClrType type, ClrReference reference)
    {
        if (reference.IsDependentHandle)
        {
            return new HopKey(type.MethodTable, -1, 0);
        }

        if (reference.IsArrayElement)
        {
            // Every element of an array is one hop shape; in an array of structs, per field of the struct.
            return new HopKey(type.MethodTable, -2, (ulong)(reference.InnerField?.Offset ?? 0));
        }

        if (from.IsDelegate && reference.Field?.Name == "_target")
        {
            // A delegate's target is labelled with its handler method, which differs between delegates of one type.
            return new HopKey(type.MethodTable, reference.Offset, SafeDelegateMethod(from)?.MethodDesc ?? 0);
        }

        return new HopKey(type.MethodTable, reference.Offset, (ulong)(reference.InnerField?.Offset ?? 0));
    }

    private readonly record struct Node(int Shape, ulong Parent);

    private readonly record struct HopKey(ulong Owner, int Offset, ulong Extra);

    private struct GroupAccumulator
    {
        public ClrType Type;
        public long Count;
        public long Bytes;
        public ulong Example;
    }
}

/// <summary>One group of <see cref="RetentionGraph.SummarizeGroups"/>: objects of one type retained the same way.</summary>
internal sealed record RetentionGroupData(ClrType Type, RetentionPath Example, long Count, long Bytes);
