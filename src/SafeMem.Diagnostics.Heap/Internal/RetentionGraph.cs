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
internal sealed partial class RetentionGraph
{
    private readonly ClrRuntime _runtime;
    private readonly ClrHeap _heap;
    private readonly TypeNames _names;
    private readonly List<Root> _roots = [];
    private readonly List<string> _notes = [];
    // The most objects the level after the target's may hold for the search for alternative paths to go on into it.
    private const int AlternativeLevelLimit = 50_000;

    // The runtime's large-object threshold: an object this size is most likely a big collection's array.
    private const ulong LargeObjectSize = 85_000;

    private readonly IDataReader _reader;
    private bool _readThreadStatics;
    private Dictionary<ulong, (ClrType Type, ClrField Field)>? _staticSlots;
    private Dictionary<ulong, (ClrType Type, ClrField Field)>? _staticBoxes;
    private List<Type>? _genericDefinitions;

    public RetentionGraph(ClrRuntime runtime, TypeNames names)
    {
        _runtime = runtime;
        _heap = runtime.Heap;
        _names = names;
        _reader = runtime.DataTarget.DataReader;
        CollectRoots();
    }

    /// <summary>Gets how many objects the last search reached (its bookkeeping; for tests of its cost).</summary>
    public int LastSearchReached { get; private set; }

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
        var hopCache = new Dictionary<(ulong, ulong), Hop>();
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
    public Dictionary<ulong, (ClrType Type, long Count, long Bytes)> SummarizeReachable(out HashSet<ulong> visited)
    {
        var totals = new Dictionary<ulong, (ClrType Type, long Count, long Bytes)>();
        visited = [];
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

            ref var total = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(totals, type.MethodTable, out bool exists);
            if (!exists)
            {
                total.Type = type;
            }

            total.Count++;
            total.Bytes += (long)obj.Size;

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
            bool collecting = true;
            List<ulong>? large = null;
            for (int index = 0; index < level.Count + (large?.Count ?? 0); index++)
            {
                bool deferred = index >= level.Count;
                ulong address = deferred ? large![index - level.Count] : level[index];
                ClrObject obj = _heap.GetObject(address);
                if (obj.Type is null)
                {
                    continue;
                }

                // Large objects (a big collection's array) go last in their level: if a target is among the small
                // objects' references, the search for detours can stop collecting before the large ones flood the
                // next level (see below).
                if (!deferred && mode == SearchMode.Alternatives && obj.Size >= LargeObjectSize)
                {
                    (large ??= []).Add(address);
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

                    if (collecting && search.Parent.TryAdd(reference, address))
                    {
                        next.Add(reference);

                        // The target is reached and the next level is already too large to search for detours: what
                        // is left of this level is only read for more referrers at the same depth (no bookkeeping).
                        collecting = !(mode == SearchMode.Alternatives && search.Found.Count > 0 && next.Count > AlternativeLevelLimit);
                    }
                }

                // Enough targets reached for one path each: every one found at this level has its shortest path.
                if (mode != SearchMode.Alternatives && search.Found.Count >= wanted)
                {
                    break;
                }
            }

            // One target, several paths: once it is reached, one more level may add referrers one hop further, but
            // only when that level is small. On a large heap the level after the target's is often the bulk of the
            // application's data (a static dictionary's values); walking it costs a second of CPU for a detour a
            // person rarely needs, and further levels would cost a walk of the whole heap for ever longer detours.
            if (mode == SearchMode.Alternatives && search.Found.Count > 0)
            {
                extraLevels = extraLevels < 0 && collecting && next.Count <= AlternativeLevelLimit ? 1 : 0;
            }

            level = next;
        }

        LastSearchReached = search.Parent.Count;
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

    private RetentionPath Describe(List<ulong> chain, Search search, Dictionary<(ulong, ulong), Hop>? hopCache)
    {
        Root root = _roots[search.RootOf[chain[0]]];
        RetentionRootKind kind = root.Kind;
        string rootText = root.Description;
        var hops = new List<string>(chain.Count);
        bool mergeNext = false;
        for (int i = 0; i + 1 < chain.Count; i++)
        {
            if (hopCache is null || !hopCache.TryGetValue((chain[i], chain[i + 1]), out Hop described))
            {
                described = DescribeReference(_heap.GetObject(chain[i]), chain[i + 1]);
                hopCache?.Add((chain[i], chain[i + 1]), described);
            }

            if (mergeNext)
            {
                // The box of a static field of struct type: the field inside the struct continues the field's name.
                rootText += described.Member;
                mergeNext = false;
                continue;
            }

            if (described.StaticField is not null)
            {
                // The runtime's statics table: everything up to here is plumbing; the root is the field itself.
                kind = RetentionRootKind.StaticField;
                rootText = described.StaticField;
                hops.Clear();
                mergeNext = described.BoxedStruct;
                continue;
            }

            hops.Add(described.Owner + described.Member);
        }

        return new RetentionPath(kind, rootText, CollapseRepeats(hops), _names.Display(_heap.GetObjectType(chain[^1])));
    }

    // A linked list (a timer queue's timers, a chain of nodes) repeats one hop per node: say it once, with the count.
    private static List<string> CollapseRepeats(List<string> hops)
    {
        var collapsed = new List<string>(hops.Count);
        for (int i = 0; i < hops.Count;)
        {
            int run = 1;
            while (i + run < hops.Count && hops[i + run] == hops[i])
            {
                run++;
            }

            collapsed.Add(run == 1 ? hops[i] : $"{hops[i]} ({run} times)");
            i += run;
        }

        return collapsed;
    }

    /// <summary>One reference described: the referring object's type and the member it refers through (".field", "[3]"), or the static field it is the slot of.</summary>
    private readonly record struct Hop(string Owner, string Member, string? StaticField = null, bool BoxedStruct = false);

    private Hop DescribeReference(ClrObject from, ulong to)
    {
        ClrType? type = from.Type;
        string owner = _names.Display(type);
        if (type is not null && type.IsArray)
        {
            ClrArray array = from.AsArray();
            ClrType? component = type.ComponentType;
            if (component?.IsObjectReference ?? true)
            {
                for (int i = 0; i < array.Length; i++)
                {
                    if (array.GetObjectValue(i).Address == to)
                    {
                        ulong slot = type.GetArrayElementAddress(from.Address, i);
                        if (StaticSlots.TryGetValue(slot, out var field) || StaticBoxes.TryGetValue(to, out field))
                        {
                            bool boxed = !field.Field.IsObjectReference;
                            return new Hop(string.Empty, string.Empty, $"static field {_names.FullName(field.Type)}.{_names.Field(_names.Resolve(field.Type), field.Field.Name ?? "?")}", boxed);
                        }

                        if (NameGenericStatic(slot, to) is { } generic)
                        {
                            return new Hop(string.Empty, string.Empty, generic.Text, generic.Boxed);
                        }

                        return new Hop(owner, $"[{i}]");
                    }
                }
            }
            else if (component.IsValueType)
            {
                // An array of structs: find the element and the field inside it that holds the reference.
                for (int i = 0; i < array.Length; i++)
                {
                    if (FindInStruct(component, type.GetArrayElementAddress(from.Address, i), to) is { } member)
                    {
                        return new Hop(owner, $"[{i}]{member}");
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
                return new Hop(owner, " (ConditionalWeakTable key -> its value)");
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
                    return new Hop(owner, $"._target (handler {_names.Method(method)})");
                }

                return new Hop(owner, "." + name);
            }

            return new Hop(owner, $" (+0x{reference.Offset:x})");
        }

        return new Hop(owner, " (reference not labelled)");
    }

    /// <summary>The field path inside a struct value at <paramref name="address"/> that holds <paramref name="target"/> (".a.b"), or null.</summary>
    private string? FindInStruct(ClrType structType, ulong address, ulong target, int depth = 0)
    {
        if (depth > 8)
        {
            return null;
        }

        foreach (ClrInstanceField field in structType.Fields)
        {
            ulong fieldAddress = address + (ulong)field.Offset;
            if (field.IsObjectReference)
            {
                if (_reader.ReadPointer(fieldAddress) == target)
                {
                    return "." + _names.Field(_names.Resolve(structType), field.Name ?? "?");
                }
            }
            else if (field.IsValueType && field.Type is { } inner && !inner.IsPrimitive && FindInStruct(inner, fieldAddress, target, depth + 1) is { } nested)
            {
                return "." + _names.Field(_names.Resolve(structType), field.Name ?? "?") + nested;
            }
        }

        return null;
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

    private Dictionary<ulong, (ClrType Type, ClrField Field)> StaticSlots
    {
        get
        {
            if (_staticSlots is null)
            {
                MapStaticSlots();
            }

            return _staticSlots!;
        }
    }

    private Dictionary<ulong, (ClrType Type, ClrField Field)> StaticBoxes
    {
        get
        {
            if (_staticBoxes is null)
            {
                MapStaticSlots();
            }

            return _staticBoxes!;
        }
    }

    /// <summary>
    /// Maps the slot of every initialized static field of reference type to its field, and the box of every static
    /// field of struct type (the runtime keeps such a field boxed, the box in a slot of its own) to its field.
    /// </summary>
    private void MapStaticSlots()
    {
        _staticSlots = [];
        _staticBoxes = [];
        try
        {
            foreach (ClrAppDomain domain in _runtime.AppDomains)
            {
                foreach (ClrModule module in domain.Modules)
                {
                    foreach (ClrType type in module.EnumerateTypesWithStaticFields())
                    {
                        MapStatics(type, domain);
                        if (_readThreadStatics)
                        {
                            AddThreadStaticRoots(type);
                        }
                        if (_names.Resolve(type) is { IsGenericTypeDefinition: true } definition)
                        {
                            (_genericDefinitions ??= []).Add(definition);
                        }
                    }
                }
            }
        }
        catch (Exception exception) when (exception is InvalidOperationException or IOException or ClrDiagnosticsException)
        {
            _notes.Add($"static fields: ClrMD failed to map them ({exception.Message}), so a static root may show as an object[] slot");
        }
    }

    /// <summary>
    /// A [ThreadStatic] field of reference type is a root per thread: the GC reports each thread's value while it scans
    /// that thread, so no handle or statics table leads to it.
    /// </summary>
    // ClrMD's runtime version can read as 0 on Linux (the module carries no version resource): then the version from
    // the runtime's shared-framework directory (.../Microsoft.NETCore.App/10.0.1/), or this process's own for a dump of
    // itself; 0 when unknown (a self-contained app of another process), which reads as the older runtime.
    private int RuntimeMajorVersion()
    {
        if (_runtime.ClrInfo.Version.Major >= 5)
        {
            return _runtime.ClrInfo.Version.Major;
        }

        string? directory = Path.GetFileName(Path.GetDirectoryName(_runtime.ClrInfo.ModuleInfo.FileName));
        if (directory is not null && Version.TryParse(directory.Split('-')[0], out Version? version))
        {
            return version.Major;
        }

        return _names.ResolvesThroughReflection ? Environment.Version.Major : 0;
    }

    private void AddThreadStaticRoots(ClrType type)
    {
        foreach (ClrThreadStaticField field in type.ThreadStaticFields)
        {
            if (!field.IsObjectReference)
            {
                continue;
            }

            foreach (ClrThread thread in _runtime.Threads)
            {
                if (!thread.IsAlive)
                {
                    continue;
                }

                ulong value = field.ReadObject(thread).Address;
                if (value != 0)
                {
                    _roots.Add(new Root(value, RetentionRootKind.StaticField, $"thread-static field {_names.FullName(type)}.{_names.Field(_names.Resolve(type), field.Name ?? "?")} (thread {thread.ManagedThreadId})"));
                }
            }
        }
    }

    private void MapStatics(ClrType type, ClrAppDomain domain)
    {
        foreach (ClrStaticField field in type.StaticFields)
        {
            if (!field.IsInitialized(domain))
            {
                continue;
            }

            ulong address = field.GetAddress(domain);
            if (address == 0)
            {
                continue;
            }

            if (field.IsObjectReference)
            {
                _staticSlots!.TryAdd(address, (type, field));
            }
            else if (field.IsValueType && field.Type is { IsPrimitive: false })
            {
                // The address is that of the struct's data inside its box (right after the box's method table), or
                // of the slot that refers to the box, depending on the runtime: map the box under both readings.
                _staticBoxes!.TryAdd(address - (ulong)IntPtr.Size, (type, field));
                _staticBoxes!.TryAdd(_reader.ReadPointer(address), (type, field));
            }
        }
    }

    /// <summary>
    /// Names a statics-table slot that belongs to a closed generic type (<c>Holder&lt;Widget&gt;.Item</c>): ClrMD lists
    /// the statics of each module's type definitions, not of their instantiations, so candidates are built here, in a
    /// dump of this very process only (reflection closes each generic definition that has statics over the types the
    /// slot's object suggests: its own type, and its generic arguments and element type).
    /// </summary>
    private (string Text, bool Boxed)? NameGenericStatic(ulong slot, ulong target)
    {
        if (_genericDefinitions is null || _names.Resolve(_heap.GetObjectType(target)) is not { } held)
        {
            return null;
        }

        var arguments = new List<Type> { held };
        arguments.AddRange(held.IsConstructedGenericType ? held.GetGenericArguments() : []);
        if (held.HasElementType)
        {
            arguments.Add(held.GetElementType()!);
        }

        if (held.BaseType is { } baseType && baseType != typeof(object))
        {
            arguments.Add(baseType);
        }

        arguments.Add(typeof(object));
        ClrAppDomain? domain = _runtime.AppDomains.FirstOrDefault();
        foreach (Type definition in _genericDefinitions)
        {
            if (definition.GetGenericArguments().Length != 1 || domain is null)
            {
                continue;
            }

            foreach (Type argument in arguments.Distinct())
            {
                Type closed;
                try
                {
                    closed = definition.MakeGenericType(argument);
                }
                catch (ArgumentException)
                {
                    continue; // a constraint the argument does not meet
                }

                if (_heap.GetTypeByMethodTable((ulong)closed.TypeHandle.Value) is not { } candidate)
                {
                    continue;
                }

                foreach (ClrStaticField field in candidate.StaticFields)
                {
                    ulong address = field.IsInitialized(domain) ? field.GetAddress(domain) : 0;
                    bool boxed = !field.IsObjectReference;
                    if (address != 0 && (address == slot || (boxed && (address - (ulong)IntPtr.Size == target || _reader.ReadPointer(address) == target))))
                    {
                        return ($"static field {_names.FullName(candidate)}.{_names.Field(closed, field.Name ?? "?")}", boxed);
                    }
                }
            }
        }

        return null;
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

        // Thread statics are roots found while mapping the statics: map them now. On .NET 8, ClrMD's reading of thread
        // statics through that runtime's DAC brings the reading process down from its second dump on: not read there.
        _readThreadStatics = RuntimeMajorVersion() >= 9;
        if (!_readThreadStatics)
        {
            _notes.Add("[ThreadStatic] fields: not read on .NET 8 (ClrMD cannot read them safely there), so an object held only by another thread's [ThreadStatic] field shows no path");
        }

        MapStaticSlots();

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
