using Microsoft.Diagnostics.Runtime;

namespace SafeMem.Diagnostics.Heap.Internal;

/// <summary>
/// Finds why objects in a dump are alive: a breadth-first walk from every GC root ClrMD can see (so each path found
/// is a shortest one), then each path labelled with the fields and array indexes it goes through.
/// </summary>
/// <remarks>
/// Roots are taken kind by kind (GC handles, static-field roots, the finalizer queue, each thread's stack) so that a
/// kind ClrMD fails to read is named in <see cref="InspectionNotes"/> instead of silently missing. Static fields of
/// reference type live in runtime-owned <c>object[]</c> tables reached from handles; a hop through such a slot is
/// rewritten as the static field it is (declaring type and field name), found through ClrMD's static-field
/// addresses. Dependent handles (<c>ConditionalWeakTable</c>) are followed only from a key already reached, as the GC
/// does, so a value that refers to its own key does not keep it alive here either. Not thread-safe (one dump, one
/// caller).
/// </remarks>
internal sealed class RetentionGraph
{
    private readonly ClrRuntime _runtime;
    private readonly ClrHeap _heap;
    private readonly TypeNames _names;
    private readonly List<Root> _roots = [];
    private readonly List<string> _notes = [];
    private Dictionary<ulong, (ClrType Type, ClrStaticField Field)>? _staticSlots;

    public RetentionGraph(ClrRuntime runtime, TypeNames names)
    {
        _runtime = runtime;
        _heap = runtime.Heap;
        _names = names;
        CollectRoots();
    }

    /// <summary>Gets what could not be inspected (root kinds ClrMD failed or may be incomplete on), one note each.</summary>
    public IReadOnlyList<string> InspectionNotes => _notes;

    /// <summary>Finds up to <paramref name="maxPaths"/> shortest retention paths to the given objects.</summary>
    /// <param name="targets">Addresses of the objects to explain.</param>
    /// <param name="maxPaths">The most paths to return.</param>
    /// <param name="alternativesPerTarget">
    /// Whether to look for several paths to one object (ending in different referrers) rather than one path to each
    /// of several objects.
    /// </param>
    public List<RetentionPath> FindPaths(IReadOnlySet<ulong> targets, int maxPaths, bool alternativesPerTarget)
    {
        Search search = Walk(targets, alternativesPerTarget ? SearchMode.Alternatives : SearchMode.OnePerTarget, maxPaths);
        var paths = new List<RetentionPath>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (ulong target in search.Found)
        {
            List<ulong> ends = search.Referrers[target];
            if (ends.Count == 0)
            {
                ends = [0];
            }

            foreach (ulong referrer in ends)
            {
                RetentionPath path = Describe(search.Chain(target, referrer), search, hopCache: null);
                if (seen.Add(path.ToString()))
                {
                    paths.Add(path);
                }

                if (paths.Count >= maxPaths)
                {
                    return paths;
                }
            }
        }

        return paths;
    }

    /// <summary>
    /// Finds the shortest retention path of every given object reachable from a root, and groups them by signature
    /// (the path with array indexes left out), largest group first.
    /// </summary>
    /// <param name="targets">Addresses of the objects to explain.</param>
    /// <param name="unreached">How many of the objects no inspected root reaches.</param>
    public List<RetentionPathGroup> GroupPaths(IReadOnlySet<ulong> targets, out int unreached)
    {
        Search search = Walk(targets, SearchMode.All, int.MaxValue);
        var groups = new Dictionary<string, (RetentionPath Example, List<ulong> Objects)>(StringComparer.Ordinal);

        // Objects held by one collection share every hop but the last: describe each reference once.
        var hopCache = new Dictionary<(ulong, ulong), (string, string?)>();
        foreach (ulong target in search.Found)
        {
            List<ulong> ends = search.Referrers[target];
            RetentionPath path = Describe(search.Chain(target, ends.Count == 0 ? 0 : ends[0]), search, hopCache);
            if (!groups.TryGetValue(path.Signature, out var group))
            {
                groups[path.Signature] = group = (path, []);
            }

            group.Objects.Add(target);
        }

        unreached = targets.Count - search.Found.Count;
        return groups.Values
            .Select(g => new RetentionPathGroup(g.Example, g.Objects))
            .OrderByDescending(g => g.Count)
            .ThenBy(g => g.Example.Length)
            .ThenBy(g => g.Signature, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Count and bytes per type of the objects reachable from the inspected roots (a mark phase over the dump).</summary>
    /// <param name="exclude">Types left out of the totals (their objects are still followed).</param>
    public Dictionary<ulong, (ClrType Type, long Count, long Bytes)> SummarizeReachable(Func<ClrType, bool> exclude)
    {
        var totals = new Dictionary<ulong, (ClrType Type, long Count, long Bytes)>();
        var visited = new HashSet<ulong>();
        var stack = new Stack<ulong>();
        foreach (Root root in _roots)
        {
            if (root.Object != 0 && visited.Add(root.Object))
            {
                stack.Push(root.Object);
            }
        }

        // Depth-first: only reachability matters here, and a stack holds far fewer addresses than a BFS level.
        while (stack.TryPop(out ulong address))
        {
            ClrObject obj = _heap.GetObject(address);
            if (obj.Type is not { } type)
            {
                continue;
            }

            if (!exclude(type))
            {
                ref var total = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(totals, type.MethodTable, out bool exists);
                if (!exists)
                {
                    total.Type = type;
                }

                total.Count++;
                total.Bytes += (long)obj.Size;
            }

            foreach (ulong reference in obj.EnumerateReferenceAddresses(carefully: false, considerDependantHandles: true))
            {
                if (reference != 0 && visited.Add(reference))
                {
                    stack.Push(reference);
                }
            }
        }

        return totals;
    }

    /// <summary>
    /// Breadth-first from the roots: handles, statics and the finalizer queue first, then the stacks, recording for
    /// each object reached the object that first referred to it, and for each target its referrers.
    /// </summary>
    private Search Walk(IReadOnlySet<ulong> targets, SearchMode mode, int maxPaths)
    {
        var search = new Search();
        var level = new List<ulong>();
        int wanted = mode == SearchMode.OnePerTarget ? Math.Min(maxPaths, targets.Count) : targets.Count;

        // Two phases: first from the roots a leak is made of (handles, statics, the finalizer queue), then from the
        // stacks. A stack slot that still refers to a collection held by a static field would otherwise win as the
        // shorter path and hide the field, which is what a person has to change.
        bool stacksSeeded = false;
        Seed(level, stacks: false);
        int extraLevels = -1;
        while (true)
        {
            bool enough = mode == SearchMode.Alternatives ? search.Found.Count > 0 : search.Found.Count >= wanted;
            if (level.Count == 0 || extraLevels == 0 || (mode != SearchMode.Alternatives && enough))
            {
                if (stacksSeeded || enough)
                {
                    break;
                }

                stacksSeeded = true;
                extraLevels = -1;
                Seed(level, stacks: true);
                if (level.Count == 0)
                {
                    break;
                }
            }

            var next = new List<ulong>();
            foreach (ulong address in level)
            {
                ClrObject obj = _heap.GetObject(address);
                if (obj.Type is null)
                {
                    continue;
                }

                foreach (ulong reference in obj.EnumerateReferenceAddresses(carefully: false, considerDependantHandles: true))
                {
                    if (reference == 0)
                    {
                        continue;
                    }

                    if (targets.Contains(reference))
                    {
                        if (!search.Referrers.TryGetValue(reference, out List<ulong>? list))
                        {
                            search.Referrers[reference] = list = [];
                            search.Found.Add(reference);
                        }

                        if (list.Count < (mode == SearchMode.Alternatives ? maxPaths : 1) && !list.Contains(address))
                        {
                            list.Add(address);
                        }
                    }

                    if (search.Parent.TryAdd(reference, address))
                    {
                        next.Add(reference);
                    }
                }
            }

            // One target, several paths: once it is reached, one more level may add referrers at the same depth
            // and the next; further levels would cost a walk of the whole heap for ever longer detours.
            if (mode == SearchMode.Alternatives && search.Found.Count > 0)
            {
                extraLevels = extraLevels < 0 ? 1 : extraLevels - 1;
            }

            level = next;
        }

        return search;

        void Seed(List<ulong> into, bool stacks)
        {
            into.Clear();
            for (int i = 0; i < _roots.Count; i++)
            {
                ulong address = _roots[i].Object;
                if ((_roots[i].Kind == RetentionRootKind.StackLocal) == stacks && address != 0 && search.Parent.TryAdd(address, 0))
                {
                    search.RootOf[address] = i;
                    into.Add(address);
                    if (targets.Contains(address) && search.Referrers.TryAdd(address, []))
                    {
                        search.Found.Add(address);
                    }
                }
            }
        }
    }

    private RetentionPath Describe(List<ulong> chain, Search search, Dictionary<(ulong, ulong), (string, string?)>? hopCache)
    {
        Root root = _roots[search.RootOf[chain[0]]];
        RetentionRootKind kind = root.Kind;
        string rootText = root.Description;
        var hops = new List<string>(chain.Count);
        for (int i = 0; i + 1 < chain.Count; i++)
        {
            (string hop, string? staticField) described;
            if (hopCache is null || !hopCache.TryGetValue((chain[i], chain[i + 1]), out described))
            {
                described = DescribeReference(_heap.GetObject(chain[i]), chain[i + 1]);
                hopCache?.Add((chain[i], chain[i + 1]), described);
            }

            if (described.staticField is not null)
            {
                // The runtime's statics table: everything up to here is plumbing; the root is the field itself.
                kind = RetentionRootKind.StaticField;
                rootText = described.staticField;
                hops.Clear();
                continue;
            }

            hops.Add(described.hop);
        }

        return new RetentionPath(kind, rootText, hops, _names.Display(_heap.GetObjectType(chain[^1])));
    }

    private (string Hop, string? StaticField) DescribeReference(ClrObject from, ulong to)
    {
        ClrType? type = from.Type;
        string owner = _names.Display(type);
        if (type is not null && type.IsArray)
        {
            ClrArray array = from.AsArray();
            if (type.ComponentType?.IsObjectReference ?? true)
            {
                for (int i = 0; i < array.Length; i++)
                {
                    if (array.GetObjectValue(i).Address == to)
                    {
                        ulong slot = type.GetArrayElementAddress(from.Address, i);
                        if (StaticSlots.TryGetValue(slot, out var field))
                        {
                            return (string.Empty, $"static field {_names.FullName(field.Type)}.{_names.Field(_names.Resolve(field.Type), field.Field.Name ?? "?")}");
                        }

                        return ($"{owner}[{i}]", null);
                    }
                }
            }
        }

        foreach (ClrReference reference in from.EnumerateReferencesWithFields(carefully: false, considerDependantHandles: true))
        {
            if (reference.Object.Address != to)
            {
                continue;
            }

            if (reference.IsDependentHandle)
            {
                return ($"{owner} (ConditionalWeakTable key -> its value)", null);
            }

            if (reference.IsArrayElement && type is not null && type.ComponentSize > 0)
            {
                // An element of an array of structs: index from the offset, then the field inside the struct.
                int index = (int)((reference.Offset - (int)(type.GetArrayElementAddress(from.Address, 0) - from.Address)) / type.ComponentSize);
                string inner = reference.InnerField is { } innerField && innerField.Field is { } f
                    ? "." + _names.Field(_names.Resolve(f.ContainingType), f.Name ?? "?")
                    : string.Empty;
                return ($"{owner}[{index}]{inner}", null);
            }

            if (reference.Field is { } field)
            {
                var segments = new List<string> { _names.Field(_names.Resolve(field.ContainingType), field.Name ?? "?") };
                for (ClrReference? inner = reference.InnerField; inner is { Field: { } innerField }; inner = inner.Value.InnerField)
                {
                    segments.Add(_names.Field(_names.Resolve(innerField.ContainingType), innerField.Name ?? "?"));
                }

                string name = string.Join('.', segments.Where(segment => segment.Length > 0));

                if (from.IsDelegate && field.Name == "_target")
                {
                    ClrMethod? method = SafeDelegateMethod(from);
                    return ($"{owner}._target (handler {_names.Method(method)})", null);
                }

                return ($"{owner}.{name}", null);
            }

            return ($"{owner} (+0x{reference.Offset:x})", null);
        }

        return ($"{owner} (reference not labelled)", null);
    }

    private static ClrMethod? SafeDelegateMethod(ClrObject @delegate)
    {
        try
        {
            return @delegate.AsDelegate().GetDelegateTarget()?.Method;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private Dictionary<ulong, (ClrType Type, ClrStaticField Field)> StaticSlots => _staticSlots ??= MapStaticSlots();

    private Dictionary<ulong, (ClrType, ClrStaticField)> MapStaticSlots()
    {
        var slots = new Dictionary<ulong, (ClrType, ClrStaticField)>();
        try
        {
            foreach (ClrAppDomain domain in _runtime.AppDomains)
            {
                foreach (ClrModule module in domain.Modules)
                {
                    foreach (ClrType type in module.EnumerateTypesWithStaticFields())
                    {
                        foreach (ClrStaticField field in type.StaticFields)
                        {
                            if (field.IsObjectReference && field.IsInitialized(domain))
                            {
                                ulong address = field.GetAddress(domain);
                                if (address != 0)
                                {
                                    slots.TryAdd(address, (type, field));
                                }
                            }
                        }
                    }
                }
            }
        }
        catch (Exception exception) when (exception is InvalidOperationException or IOException or ClrDiagnosticsException)
        {
            _notes.Add($"static fields: ClrMD failed to map them ({exception.Message}), so a static root may show as an object[] slot");
        }

        return slots;
    }

    private void CollectRoots()
    {
        try
        {
            foreach (ClrHandle handle in _runtime.EnumerateHandles())
            {
                if (handle.IsStrong && handle.Object.Address != 0)
                {
                    _roots.Add(new Root(handle.Object.Address, RetentionRootKind.GCHandle, $"GC handle ({handle.HandleKind})"));
                }
            }
        }
        catch (Exception exception) when (exception is InvalidOperationException or IOException or ClrDiagnosticsException)
        {
            _notes.Add($"GC handles: ClrMD failed to enumerate them ({exception.Message})");
        }

        try
        {
            foreach (ClrRoot root in _heap.EnumerateAdditionalRoots())
            {
                _roots.Add(new Root(root.Object.Address, root.RootKind == ClrRootKind.StaticVar ? RetentionRootKind.StaticField : RetentionRootKind.Other, root.RootKind.ToString()));
            }
        }
        catch (Exception exception) when (exception is InvalidOperationException or IOException or ClrDiagnosticsException)
        {
            _notes.Add($"static roots: ClrMD failed to enumerate them ({exception.Message})");
        }

        try
        {
            foreach (ClrRoot root in _heap.EnumerateFinalizerRoots())
            {
                _roots.Add(new Root(root.Object.Address, RetentionRootKind.FinalizerQueue, "finalizer queue (an object waiting for its finalizer to run)"));
            }
        }
        catch (Exception exception) when (exception is InvalidOperationException or IOException or ClrDiagnosticsException)
        {
            _notes.Add($"finalizer queue: ClrMD failed to enumerate it ({exception.Message})");
        }

        int failedThreads = 0;
        string? failure = null;
        foreach (ClrThread thread in _runtime.Threads)
        {
            if (!thread.IsAlive)
            {
                continue;
            }

            try
            {
                foreach (ClrStackRoot root in thread.EnumerateStackRoots())
                {
                    string where = root.StackFrame?.Method is { } method ? _names.Method(method) : "a frame without a managed method";
                    _roots.Add(new Root(root.Object.Address, RetentionRootKind.StackLocal, $"local variable in {where} (thread {thread.ManagedThreadId})"));
                }
            }
            catch (Exception exception) when (exception is InvalidOperationException or IOException or ClrDiagnosticsException)
            {
                failedThreads++;
                failure ??= exception.Message;
            }
        }

        if (failedThreads > 0)
        {
            _notes.Add($"stack locals: ClrMD could not walk {failedThreads} thread stack(s) ({failure})");
        }

        if (!OperatingSystem.IsWindows())
        {
            _notes.Add("stack locals: on Linux and macOS ClrMD's stack walk of a dump can miss frames, so a path through a local variable may be missing");
        }
    }

    private enum SearchMode
    {
        /// <summary>One path to each of up to maxPaths targets; stop once that many are reached.</summary>
        OnePerTarget,

        /// <summary>Several paths to the targets (different referrers), from the level the first is reached and the next.</summary>
        Alternatives,

        /// <summary>One path to every target; stop when all are reached or the heap is exhausted.</summary>
        All,
    }

    private readonly record struct Root(ulong Object, RetentionRootKind Kind, string Description);

    private sealed class Search
    {
        // Each reached object -> the object that first referred to it (0 for a root).
        public Dictionary<ulong, ulong> Parent { get; } = [];

        public Dictionary<ulong, int> RootOf { get; } = [];

        public Dictionary<ulong, List<ulong>> Referrers { get; } = [];

        public List<ulong> Found { get; } = [];

        /// <summary>The chain from the root to <paramref name="target"/> through <paramref name="referrer"/> (0: the target is a root).</summary>
        public List<ulong> Chain(ulong target, ulong referrer)
        {
            var chain = new List<ulong> { target };
            for (ulong current = referrer; current != 0; current = Parent[current])
            {
                chain.Add(current);
            }

            chain.Reverse();
            return chain;
        }
    }
}
