using Microsoft.Diagnostics.Runtime;

namespace SafeMem.Testing.Internal;

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
    private readonly List<Root> _roots = [];
    private readonly List<string> _notes = [];
    private Dictionary<ulong, (ClrType Type, ClrStaticField Field)>? _staticSlots;

    public RetentionGraph(ClrRuntime runtime)
    {
        _runtime = runtime;
        _heap = runtime.Heap;
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
        // parent: each reached object -> the object that first referred to it (0 for a root).
        var parent = new Dictionary<ulong, ulong>();
        var rootOf = new Dictionary<ulong, int>();
        var referrers = new Dictionary<ulong, List<ulong>>();
        var found = new List<ulong>();
        var level = new List<ulong>();

        // Two phases: first from the roots a leak is made of (handles, statics, the finalizer queue), then from the
        // stacks. A stack slot that still refers to a collection held by a static field would otherwise win as the
        // shorter path and hide the field, which is what a person has to change.
        bool stacksSeeded = false;
        Seed(level, stacks: false);
        int extraLevels = -1;
        while (true)
        {
            if (level.Count == 0 || extraLevels == 0 || (!alternativesPerTarget && found.Count >= Math.Min(maxPaths, targets.Count)))
            {
                if (stacksSeeded || (alternativesPerTarget ? found.Count > 0 : found.Count >= Math.Min(maxPaths, targets.Count)))
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
                        if (!referrers.TryGetValue(reference, out List<ulong>? list))
                        {
                            referrers[reference] = list = [];
                            found.Add(reference);
                        }

                        if (list.Count < maxPaths && !list.Contains(address))
                        {
                            list.Add(address);
                        }
                    }

                    if (parent.TryAdd(reference, address))
                    {
                        next.Add(reference);
                    }
                }
            }

            // One target, several paths: once it is reached, one more level may add referrers at the same depth
            // and the next; further levels would cost a walk of the whole heap for ever longer detours.
            if (alternativesPerTarget && found.Count > 0)
            {
                extraLevels = extraLevels < 0 ? 1 : extraLevels - 1;
            }

            level = next;
        }

        void Seed(List<ulong> into, bool stacks)
        {
            into.Clear();
            for (int i = 0; i < _roots.Count; i++)
            {
                ulong address = _roots[i].Object;
                if ((_roots[i].Kind == RetentionRootKind.StackLocal) == stacks && address != 0 && parent.TryAdd(address, 0))
                {
                    rootOf[address] = i;
                    into.Add(address);
                    if (targets.Contains(address) && referrers.TryAdd(address, []))
                    {
                        found.Add(address);
                    }
                }
            }
        }

        var paths = new List<RetentionPath>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (ulong target in found)
        {
            List<ulong> ends = referrers[target];
            if (ends.Count == 0)
            {
                ends = [0];
            }

            foreach (ulong referrer in ends)
            {
                var chain = new List<ulong> { target };
                for (ulong current = referrer; current != 0; current = parent[current])
                {
                    chain.Add(current);
                }

                chain.Reverse();
                RetentionPath path = Describe(chain, rootOf[chain[0]]);
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

    private RetentionPath Describe(List<ulong> chain, int rootIndex)
    {
        Root root = _roots[rootIndex];
        RetentionRootKind kind = root.Kind;
        string rootText = root.Description;
        var hops = new List<string>(chain.Count);
        for (int i = 0; i + 1 < chain.Count; i++)
        {
            ClrObject from = _heap.GetObject(chain[i]);
            (string hop, string? staticField) = DescribeReference(from, chain[i + 1]);
            if (staticField is not null)
            {
                // The runtime's statics table: everything up to here is plumbing; the root is the field itself.
                kind = RetentionRootKind.StaticField;
                rootText = staticField;
                hops.Clear();
                continue;
            }

            hops.Add(hop);
        }

        return new RetentionPath(kind, rootText, hops, TypeNames.Display(_heap.GetObjectType(chain[^1])));
    }

    private (string Hop, string? StaticField) DescribeReference(ClrObject from, ulong to)
    {
        ClrType? type = from.Type;
        string owner = TypeNames.Display(type);
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
                            return (string.Empty, $"static field {TypeNames.FullName(field.Type)}.{TypeNames.Field(TypeNames.Resolve(field.Type), field.Field.Name ?? "?")}");
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
                    ? "." + TypeNames.Field(TypeNames.Resolve(f.ContainingType), f.Name ?? "?")
                    : string.Empty;
                return ($"{owner}[{index}]{inner}", null);
            }

            if (reference.Field is { } field)
            {
                var segments = new List<string> { TypeNames.Field(TypeNames.Resolve(field.ContainingType), field.Name ?? "?") };
                for (ClrReference? inner = reference.InnerField; inner is { Field: { } innerField }; inner = inner.Value.InnerField)
                {
                    segments.Add(TypeNames.Field(TypeNames.Resolve(innerField.ContainingType), innerField.Name ?? "?"));
                }

                string name = string.Join('.', segments.Where(segment => segment.Length > 0));

                if (from.IsDelegate && field.Name == "_target")
                {
                    ClrMethod? method = SafeDelegateMethod(from);
                    return ($"{owner}._target (handler {TypeNames.Method(method)})", null);
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
                    string where = root.StackFrame?.Method is { } method ? TypeNames.Method(method) : "a frame without a managed method";
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

    private readonly record struct Root(ulong Object, RetentionRootKind Kind, string Description);
}
