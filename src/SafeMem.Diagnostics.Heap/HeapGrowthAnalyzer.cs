namespace SafeMem.Diagnostics.Heap;

/// <summary>
/// Tells growth from warm-up in a series of heap samples taken with work between them (runs of an operation, seconds
/// of traffic): growth is what keeps rising with the work.
/// </summary>
/// <remarks>
/// <para>
/// <b>The rule.</b> The samples cut the work into stretches. A type grows when its instance count rises by at least
/// <see cref="HeapGrowthOptions.MinimumRise"/> over every stretch, and no stretch rises per unit of work less than
/// <see cref="HeapGrowthOptions.DecayTolerance"/> times the fastest stretch before it. Warm-up decays: a cache filling
/// up, a lazily created singleton, pooled buffers, JIT and type-loading data rise in the first stretch and then slow
/// down or stop; growth keeps its pace (or speeds up). Confidence grows with the stretches the rise held over: one
/// (two samples) is <see cref="HeapGrowthConfidence.Low"/>, two <see cref="HeapGrowthConfidence.Medium"/>, three or
/// more <see cref="HeapGrowthConfidence.High"/>.
/// </para>
/// <para>
/// <b>The runtime's per-thread state.</b> A new thread-pool thread brings a few objects of its own (the thread, its
/// work-queue locals and work-stealing queue, its counters' nodes, its block of [ThreadStatic] fields, array pool
/// buffers kept per thread or per core), which can rise in step
/// with a short series. A type that rose by at most 64 instances and whose new instances are held only that way (by
/// their retention path) is warm-up, with that path as its <see cref="HeapTypeGrowth.NewInstancePath"/>: the thread
/// pool bounds its threads. So is what the series' own open snapshots hold when it samples the process it inspects
/// (their dump files' buffers). The runtime's internal per-thread types are told by name; the others need an open
/// snapshot or a record for the last sample (rows alone cannot tell).
/// </para>
/// <para>
/// <b>Limits.</b> A leak slower than one instance per stretch is not seen (one object every 1,000 runs needs stretches
/// of at least 1,000 runs); a cache that is still filling at the same pace in every stretch looks like growth until
/// it reaches its bound (warm it up first, or use more stretches); rows pair by type name. Growth is judged by instance
/// counts: a single object that grows (one list's array) shows through the instances it holds.
/// </para>
/// <para>
/// <b>Paths.</b> For the fastest growing types (<see cref="HeapGrowthOptions.MaxPathTypes"/>) the last sample's
/// snapshot, when open, gives the retention path of a new instance: instances are grouped by the way they are held
/// (<see cref="HeapSnapshot.GroupRetentionPaths"/>), and the group that rose most since the first sample (when its
/// snapshot is open too; else the largest group) stands for the new ones. A snapshot disposed meanwhile gives no path.
/// </para>
/// <para>Stateless and thread-safe; the snapshots' own locks serialize their queries.</para>
/// </remarks>
public static class HeapGrowthAnalyzer
{
    // Instances of one type whose paths are grouped, per snapshot: an even sample of them is enough to see which way
    // of holding them rose, and keeps one grouping of a type with a million instances to a bounded number of chains.
    private const int PathSampleSize = 1_000;

    // The runtime's per-thread state rises by a few instances per new thread: a type that rose more is never taken
    // for it, and only so many small risers are checked (each check groups their instances' paths).
    private const long PerThreadRiseLimit = 64;
    private const int PerThreadSuspects = 10;

    // Runtime types that hold state per thread or per core (System.Threading, System.Buffers), and the thread pool's own
    // bookkeeping (its hill climbing, created with its threads): what they hold is bounded by the thread count and the
    // pool's buckets. Work items queued to the pool are not among them.
    private static readonly string[] s_runtimePerThreadTypes =
    [
        "ThreadPoolWorkQueueThreadLocals",
        "ThreadPoolWorkQueue.WorkStealingQueue",
        "PortableThreadPool",
        "SharedArrayPoolThreadLocalArray",
        "SharedArrayPoolPartitions",
        "ThreadInt64PersistentCounter",
    ];

    // The inspection's own open snapshots (their dump files' buffers and readers): they rise with the snapshots taken
    // while a series is sampled in the process it inspects, not with the work.
    private static readonly string[] s_inspectionHolders = ["HeapSnapshot._dump"];

    /// <summary>Classifies every type that rose over the series as growth or warm-up.</summary>
    /// <param name="samples">Two samples or more, in the order taken, with strictly increasing <see cref="HeapGrowthSample.Work"/>.</param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults.</param>
    /// <returns>The report.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="samples"/>, or a sample in it, is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Fewer than two samples, or work that does not strictly increase from one sample to the next.</exception>
    public static HeapGrowthReport Analyze(IReadOnlyList<HeapGrowthSample> samples, HeapGrowthOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(samples);
        options ??= new HeapGrowthOptions();
        if (samples.Count < 2)
        {
            throw new ArgumentException("A growth series needs at least two samples (one stretch of work).", nameof(samples));
        }

        var work = new double[samples.Count];
        for (int i = 0; i < samples.Count; i++)
        {
            HeapGrowthSample sample = samples[i] ?? throw new ArgumentNullException(nameof(samples), $"Sample {i} is null.");
            work[i] = sample.Work;
            if (i > 0 && !(work[i] > work[i - 1]))
            {
                throw new ArgumentException($"The work done must increase from one sample to the next (sample {i - 1}: {work[i - 1]}, sample {i}: {work[i]}).", nameof(samples));
            }
        }

        // Per type name: count and bytes at each sample (several rows of one name, one type loaded twice, are summed).
        var series = new Dictionary<string, (Type? Type, long[] Counts, long[] Bytes)>(StringComparer.Ordinal);
        for (int i = 0; i < samples.Count; i++)
        {
            foreach (HeapTypeSummary row in samples[i].Types)
            {
                if (!series.TryGetValue(row.TypeName, out var entry))
                {
                    series[row.TypeName] = entry = (row.Type, new long[samples.Count], new long[samples.Count]);
                }

                entry.Counts[i] += row.Count;
                entry.Bytes[i] += row.Bytes;
            }
        }

        var growing = new List<HeapTypeGrowth>();
        var warmUp = new List<HeapTypeGrowth>();
        double totalWork = work[^1] - work[0];
        foreach ((string name, (Type? type, long[] counts, long[] bytes)) in series)
        {
            if (counts[^1] <= counts[0])
            {
                continue;
            }

            HeapGrowthConfidence confidence = Classify(counts, work, options);
            var growth = new HeapTypeGrowth(name, type, counts, bytes, totalWork, confidence);
            (growth.IsGrowth ? growing : warmUp).Add(growth);
        }

        Order(growing);

        // A few instances that rise in step with the work may be the runtime's per-thread state (a new thread-pool
        // thread's locals, its thread-static block, its array pool buffers): bounded by the thread count, not growth.
        // Only small rises are looked at, so a real leak of any size never pays for the check beyond its own paths.
        List<HeapTypeGrowth> suspects = [.. growing.Where(t => t.CountRise <= PerThreadRiseLimit).Take(PerThreadSuspects)];
        List<HeapTypeGrowth> pathed = [.. growing.Take(options.MaxPathTypes).Union(suspects)];
        IReadOnlyList<string> notes = FindNewInstancePaths(samples, pathed);
        foreach (HeapTypeGrowth suspect in suspects.Where(t => IsRuntimePerThreadType(t.TypeName) || (t.NewInstancePath is { } path && IsRuntimeOrInspectionState(path))))
        {
            suspect.Confidence = HeapGrowthConfidence.None;
            growing.Remove(suspect);
            warmUp.Add(suspect);
        }

        // The paths the options asked for: the fastest growing types', once the runtime's own state left the list.
        foreach (HeapTypeGrowth type in growing.Skip(options.MaxPathTypes))
        {
            type.NewInstancePath = null;
        }

        List<HeapTypeGrowth> missing = [.. growing.Take(options.MaxPathTypes).Except(pathed)];
        if (missing.Count > 0)
        {
            IReadOnlyList<string> more = FindNewInstancePaths(samples, missing);
            notes = notes.Count > 0 ? notes : more;
        }

        Order(warmUp);
        return new HeapGrowthReport(work, options.WorkUnit, growing, warmUp, notes);
    }

    /// <summary>
    /// Whether the type is one the runtime creates only for its per-thread state (internal types of System.Threading and
    /// System.Buffers, which no program can create): warm-up even when no path reaches its new instances, as when a
    /// [ThreadStatic] root is not reported.
    /// </summary>
    internal static bool IsRuntimePerThreadType(string typeName)
        => typeName.StartsWith("System.", StringComparison.Ordinal)
           && s_runtimePerThreadTypes.Any(name => typeName.Contains(name, StringComparison.Ordinal));

    /// <summary>
    /// Whether a new instance is held only by the runtime's per-thread state: a thread-pool thread's locals, the array
    /// pool's per-thread and per-core buffers, or a thread's own block of [ThreadStatic] fields (arrays held
    /// by strong handles: <c>object[]</c> for references, <c>int[]</c> and the like for the rest). Each new thread brings a few of them and the thread pool bounds the threads. Also what an open
    /// <see cref="HeapSnapshot"/> of the same process holds (its dump file's buffers), which rises with the snapshots.
    /// </summary>
    internal static bool IsRuntimeOrInspectionState(RetentionPath path)
    {
        // A live thread's own object, and its blocks of [ThreadStatic] fields (an array of references, or of primitives:
        // an int[] rose by one per new pool thread in a NoGrowth run): each held by a strong handle of the runtime.
        if (path.RootKind == RetentionRootKind.GCHandle && path.Hops.Count == 0 && (path.Target is "Thread" || path.Target.EndsWith("[]", StringComparison.Ordinal)))
        {
            return true;
        }

        foreach (string holder in s_runtimePerThreadTypes.Concat(s_inspectionHolders))
        {
            if (path.Root.Contains(holder, StringComparison.Ordinal)
                || path.Target.Contains(holder, StringComparison.Ordinal)
                || path.Hops.Any(hop => hop.Contains(holder, StringComparison.Ordinal)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The rule: a rise of at least the minimum over every stretch, and no stretch much slower per unit of work than a faster one before it.</summary>
    internal static HeapGrowthConfidence Classify(IReadOnlyList<long> counts, IReadOnlyList<double> work, HeapGrowthOptions options)
    {
        double fastest = 0;
        for (int i = 1; i < counts.Count; i++)
        {
            long rise = counts[i] - counts[i - 1];
            if (rise < options.MinimumRise)
            {
                return HeapGrowthConfidence.None;
            }

            double rate = rise / (work[i] - work[i - 1]);
            if (rate < options.DecayTolerance * fastest)
            {
                return HeapGrowthConfidence.None;
            }

            fastest = Math.Max(fastest, rate);
        }

        return (counts.Count - 1) switch
        {
            1 => HeapGrowthConfidence.Low,
            2 => HeapGrowthConfidence.Medium,
            _ => HeapGrowthConfidence.High,
        };
    }

    private static void Order(List<HeapTypeGrowth> types)
        => types.Sort((a, b) =>
        {
            int order = b.CountPerWork.CompareTo(a.CountPerWork);
            order = order != 0 ? order : b.BytesPerWork.CompareTo(a.BytesPerWork);
            return order != 0 ? order : string.CompareOrdinal(a.TypeName, b.TypeName);
        });

    private static IReadOnlyList<string> FindNewInstancePaths(IReadOnlyList<HeapGrowthSample> samples, List<HeapTypeGrowth> top)
    {
        HeapGrowthSample last = samples[^1];
        if (top.Count == 0 || (last.Snapshot is null && last.Record is null))
        {
            return [];
        }

        HeapGrowthSample first = samples[0];
        try
        {
            Dictionary<string, Dictionary<string, (double Count, RetentionPath Example)>> now = GroupByType(last, top)!;
            Dictionary<string, Dictionary<string, (double Count, RetentionPath Example)>>? before = null;
            if (!ReferenceEquals(first, last))
            {
                try
                {
                    before = GroupByType(first, top);
                }
                catch (ObjectDisposedException)
                {
                    // The first snapshot was disposed: fall back to the largest group of the last one.
                }
            }

            foreach (HeapTypeGrowth type in top)
            {
                if (!now.TryGetValue(type.TypeName, out var groups) || groups.Count == 0)
                {
                    continue;
                }

                Dictionary<string, (double Count, RetentionPath Example)>? earlier = null;
                before?.TryGetValue(type.TypeName, out earlier);
                type.NewInstancePath = groups
                    .OrderByDescending(g => g.Value.Count - (earlier is not null && earlier.TryGetValue(g.Key, out var old) ? old.Count : 0))
                    .ThenBy(g => g.Key, StringComparer.Ordinal)
                    .First().Value.Example;
            }

            return last.Snapshot?.InspectionNotes ?? last.Record!.InspectionNotes;
        }
        catch (ObjectDisposedException)
        {
            return [];
        }
    }

    /// <summary>
    /// For each type: its instances grouped by the signature of their paths, with counts, from the sample's snapshot (an
    /// even sample of each type) or its record (the groups the record kept); <see langword="null"/> for rows alone.
    /// </summary>
    private static Dictionary<string, Dictionary<string, (double Count, RetentionPath Example)>>? GroupByType(HeapGrowthSample sample, List<HeapTypeGrowth> types)
    {
        if (sample.Record is { } record)
        {
            return types.ToDictionary(
                t => t.TypeName,
                t => record.GroupsOf(t.TypeName).ToDictionary(g => g.Signature, g => ((double)g.Count, g.Example), StringComparer.Ordinal),
                StringComparer.Ordinal);
        }

        return sample.Snapshot is { } snapshot ? GroupByType(snapshot, types) : null;
    }

    /// <summary>For each type: its instances' paths in one snapshot, grouped by signature, with estimated counts (an even sample of each type).</summary>
    private static Dictionary<string, Dictionary<string, (double Count, RetentionPath Example)>> GroupByType(HeapSnapshot snapshot, List<HeapTypeGrowth> types)
    {
        var wanted = new HashSet<string>(types.Select(t => t.TypeName), StringComparer.Ordinal);
        var instances = snapshot.FindObjects(o => wanted.Contains(o.TypeName)).GroupBy(o => o.TypeName, StringComparer.Ordinal);
        var typeOf = new Dictionary<ulong, (string Name, double Weight)>();
        foreach (IGrouping<string, HeapObject> group in instances)
        {
            List<HeapObject> all = [.. group];
            int step = Math.Max(1, (all.Count + PathSampleSize - 1) / PathSampleSize);
            for (int i = 0; i < all.Count; i += step)
            {
                typeOf[all[i].Address] = (group.Key, step);
            }
        }

        var result = new Dictionary<string, Dictionary<string, (double Count, RetentionPath Example)>>(StringComparer.Ordinal);
        foreach (RetentionPathGroup group in snapshot.GroupRetentionPaths(typeOf.Keys, maxGroups: 1_000))
        {
            (string name, double weight) = typeOf[group.Objects[0]];
            if (!result.TryGetValue(name, out var groups))
            {
                result[name] = groups = new Dictionary<string, (double, RetentionPath)>(StringComparer.Ordinal);
            }

            groups[group.Signature] = (group.Count * weight, group.Example);
        }

        return result;
    }
}
