using System.Diagnostics;

namespace SafeMem.Diagnostics;

/// <summary>Explaining: <see cref="AnalyzeAsync"/>, the explainer it finds, and the automatic analyses.</summary>
public sealed partial class LeakWatcher
{
    private const int DescriptionsPerGroup = 5;

    // One analysis at a time per watcher: a second one would only dump the process again for the same objects.
    private readonly SemaphoreSlim _analysisGate = new(1, 1);
    private long _lastAutomaticStart;

    /// <summary>
    /// Explains the objects retained now: for each, the shortest chain of references from a GC root (a static field, a
    /// GC handle, a thread's stack, the finalizer queue) to it, with types and fields; the chains grouped by signature
    /// into one <see cref="LeakGroup"/> per distinct leak.
    /// </summary>
    /// <param name="cancellationToken">Cancels the analysis (it cannot stop while the runtime writes the dump, a few seconds at most).</param>
    /// <returns>
    /// The analysis; <see cref="LeakAnalysis.ToString"/> is the report. With no retained object alive it is empty and
    /// nothing is dumped. When the process cannot dump itself (diagnostics disabled, no permission, no disk space, a
    /// read-only or missing <see cref="LeakWatcherOptions.DumpDirectory"/>) or the explainer fails, the analysis still
    /// groups the objects by type and says why there are no paths (<see cref="LeakAnalysis.UnavailableReason"/>): that
    /// is a result, not an exception.
    /// </returns>
    /// <remarks>
    /// <para>
    /// <b>Cost:</b> the explainer (<c>SafeMem.Diagnostics.Heap</c>) has the runtime write a dump of the whole process,
    /// which suspends every thread while it is written (about 2 s for 200 MB on a busy machine; see
    /// docs/leak-watcher.md for 100 MB and 1 GB), needs free disk space about the size of the process's memory (the
    /// file is deleted before this returns), and then reads it in this process (CPU, and memory for the heap's graph).
    /// Run it on a staging instance, or one taken out of the load balancer, unless pauses of that length are acceptable.
    /// </para>
    /// <para>
    /// Analyses of one watcher run one at a time (a second call waits for the first). The retained objects stay watched:
    /// calling again explains them again, with any retained since.
    /// </para>
    /// </remarks>
    /// <exception cref="InvalidOperationException">No explainer was found: reference the <c>SafeMem.Diagnostics.Heap</c> package or set <see cref="LeakWatcherOptions.Explainer"/> (the message says so).</exception>
    /// <exception cref="ObjectDisposedException">The watcher was disposed, before the call or while the analysis ran.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<LeakAnalysis> AnalyzeAsync(CancellationToken cancellationToken = default)
    {
        if (IsDisposed)
        {
            ThrowDisposed();
        }

        ILeakExplainer explainer = ResolveExplainer();
        await _analysisGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await AnalyzeExclusiveAsync(explainer, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _analysisGate.Release();
        }
    }

    private ILeakExplainer ResolveExplainer()
    {
        ILeakExplainer? explainer = Volatile.Read(ref _explainer);
        if (explainer is not null)
        {
            return explainer;
        }

        explainer = _findExplainer() ?? throw new InvalidOperationException(ExplainerDiscovery.MissingMessage);

        // Two racing first calls may each create one; either is fine, one is kept.
        return Interlocked.CompareExchange(ref _explainer, explainer, null) ?? explainer;
    }

    private async Task<LeakAnalysis> AnalyzeExclusiveAsync(ILeakExplainer explainer, CancellationToken cancellationToken)
    {
        DateTimeOffset startedAt = DateTimeOffset.UtcNow;
        long started = Stopwatch.GetTimestamp();
        RetainedRecord[] records;
        lock (_table.RetainedGate)
        {
            if (_table.Released)
            {
                ThrowDisposed();
            }

            records = [.. _table.Retained];
            _table.Leases++;
        }

        Interlocked.Increment(ref _analyses);
        try
        {
            if (records.Length == 0)
            {
                return new LeakAnalysis(Name, startedAt, Stopwatch.GetElapsedTime(started), [], collectedMeanwhile: 0);
            }

            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposing.Token);
            var request = new LeakExplanationRequest(Array.ConvertAll(records, static r => r.Handle)) { DumpDirectory = _dumpDirectory };
            LeakExplanation explanation;
            try
            {
                // On the pool: an explainer dumps and walks the heap synchronously for seconds.
                explanation = await Task.Run(() => explainer.ExplainAsync(request, linked.Token), linked.Token).ConfigureAwait(false);
                if (explanation.Traces.Count != records.Length)
                {
                    explanation = LeakExplanation.Unavailable(records.Length, $"the explainer {explainer.GetType().FullName} returned {explanation.Traces.Count} traces for {records.Length} objects");
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && IsDisposed)
            {
                throw new ObjectDisposedException(nameof(LeakWatcher), $"Leak watcher '{Name}' was disposed while an analysis ran.");
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // The explainer's contract asks for UnavailableReason instead; an exception anyway becomes one, so an
                // analysis never throws into the application for a heap it could not read.
                explanation = LeakExplanation.Unavailable(records.Length, $"the explainer {explainer.GetType().FullName} failed ({exception.GetType().Name}: {exception.Message})");
            }

            if (IsDisposed)
            {
                ThrowDisposed();
            }

            return Build(records, explanation, startedAt, Stopwatch.GetElapsedTime(started));
        }
        finally
        {
            _table.EndLease();
        }
    }

    private LeakAnalysis Build(RetainedRecord[] records, LeakExplanation explanation, DateTimeOffset startedAt, TimeSpan duration)
    {
        var groups = new Dictionary<string, GroupBuilder>(StringComparer.Ordinal);
        var order = new List<GroupBuilder>();
        int collectedMeanwhile = 0;
        for (int i = 0; i < records.Length; i++)
        {
            RetentionTrace? trace = explanation.Traces[i];
            if (trace is null && explanation.UnavailableReason is null)
            {
                // The handle was cleared in the dump: the object died after the watcher last saw it alive.
                collectedMeanwhile++;
                continue;
            }

            RetainedRecord record = records[i];
            string signature = LeakSignature.Of(trace, record.TypeName);
            string key = record.TypeName + "\n" + signature;
            if (!groups.TryGetValue(key, out GroupBuilder? group))
            {
                groups.Add(key, group = new GroupBuilder(signature, record.TypeName, trace));
                order.Add(group);
            }

            group.Add(record.Description, trace?.RetainedBytes);
        }

        List<LeakGroup> leaks = order
            .OrderByDescending(static g => g.Count)
            .ThenBy(static g => g.Signature, StringComparer.Ordinal)
            .Select(static g => g.Build())
            .ToList();
        return new LeakAnalysis(Name, startedAt, duration, leaks, collectedMeanwhile)
        {
            UnavailableReason = explanation.UnavailableReason,
            Notes = explanation.Notes,
            Pause = explanation.Pause,
            DumpBytes = explanation.DumpBytes,
        };
    }

    private void MaybeAnalyzeAutomatically(int retainedAlive)
    {
        if (!_automaticAnalysis || retainedAlive < _analysisThreshold || IsDisposed)
        {
            return;
        }

        long now = Stopwatch.GetTimestamp();
        long last = Volatile.Read(ref _lastAutomaticStart);
        if (last != 0 && Stopwatch.GetElapsedTime(last, now) < _minimumAnalysisInterval)
        {
            return;
        }

        // One sweep runs at a time, but the exchange keeps two from ever starting an analysis for one interval.
        if (Interlocked.CompareExchange(ref _lastAutomaticStart, now, last) == last)
        {
            _ = AnalyzeAutomaticallyAsync();
        }
    }

    private async Task AnalyzeAutomaticallyAsync()
    {
        LeakAnalysis analysis;
        try
        {
            analysis = await AnalyzeAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is ObjectDisposedException or OperationCanceledException)
        {
            return; // the watcher was disposed meanwhile
        }

        Raise(AnalysisCompleted, [analysis]);
    }

    private sealed class GroupBuilder(string signature, string typeName, RetentionTrace? trace)
    {
        private readonly Dictionary<string, int> _descriptions = new(StringComparer.Ordinal);
        private long? _bytes = trace is null ? null : 0;

        public string Signature => signature;

        public int Count { get; private set; }

        public void Add(string description, long? retainedBytes)
        {
            Count++;
            _descriptions[description] = _descriptions.GetValueOrDefault(description) + 1;

            // Known only if known for every object of the group: a partial sum would understate the leak.
            _bytes = _bytes is { } sum && retainedBytes is { } bytes ? sum + bytes : null;
        }

        public LeakGroup Build()
        {
            string[] descriptions = _descriptions
                .OrderByDescending(static p => p.Value)
                .ThenBy(static p => p.Key, StringComparer.Ordinal)
                .Take(DescriptionsPerGroup)
                .Select(static p => p.Key)
                .ToArray();
            return new LeakGroup(signature, typeName, Count, descriptions, trace, _bytes);
        }
    }
}
