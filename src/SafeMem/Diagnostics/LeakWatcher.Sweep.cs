using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SafeMem.Disposal;
using SafeMem.Telemetry;

namespace SafeMem.Diagnostics;

/// <summary>Judging: the full-collection callback, the sweep it schedules, and the instruments.</summary>
public sealed partial class LeakWatcher
{
    // Records judged per stripe lock hold: a Watch call on that stripe waits for at most one batch.
    private const int JudgeBatch = 1024;

    private long _sweeps;

    /// <summary>Gets the number of sweeps that have finished (tests wait for the one a collection scheduled).</summary>
    internal long SweepCount => Volatile.Read(ref _sweeps);

    /// <summary>Called on the finalizer thread after a full collection (and after the sentinel's first, ephemeral ones).</summary>
    private bool OnFullCollection()
    {
        if (IsDisposed)
        {
            return false;
        }

        // The callback must be short: it only reads which full collections completed, and hands judging to the pool.
        if (_clock.Observe() && Interlocked.Exchange(ref _sweepScheduled, 1) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static watcher => watcher.Sweep(), this, preferLocal: false);
        }

        return true;
    }

    /// <summary>Judges the due records, re-checks the retained ones, then raises <see cref="Retained"/> for the new ones.</summary>
    internal void Sweep()
    {
        // Cleared first: a collection completing while this sweep runs schedules the next one instead of being lost.
        Volatile.Write(ref _sweepScheduled, 0);
        long dueBefore = _clock.DueBefore(_retainedAfterCollections);
        var judged = new List<WatchRecord>();
        foreach (WatchStripe stripe in _table.Stripes)
        {
            bool more;
            do
            {
                lock (stripe.Gate)
                {
                    more = stripe.JudgeDue(dueBefore, JudgeBatch, judged);
                }
            }
            while (more);
        }

        List<RetainedObject> reports = new(judged.Count);
        List<RetainedRecord> forget = [];
        int died = 0;
        int alive;
        lock (_table.RetainedGate)
        {
            // Objects retained before: one that died since was held late rather than leaked. Skipped while an analysis
            // leases the handles (a freed handle's slot could be reused for another object before the dump is written).
            if (_table.Leases == 0)
            {
                _table.Retained.RemoveAll(record =>
                {
                    if (GCHandle.FromIntPtr(record.Handle).Target is not null)
                    {
                        return false;
                    }

                    forget.Add(record);
                    died++;
                    return true;
                });
            }

            foreach (WatchRecord record in judged)
            {
                var retained = new RetainedRecord(record.Handle, record.Hash, record.Type, TypeNames.Of(record.Type), record.Description);
                if (!_table.Released && _table.Retained.Count < _maximumRetained)
                {
                    _table.Retained.Add(retained);
                }
                else
                {
                    forget.Add(retained);
                    Interlocked.Increment(ref _retainedBeyondLimit);
                }

                reports.Add(new RetainedObject(
                    record.Type, retained.TypeName, record.Description, Name,
                    TimeSpan.FromMilliseconds(Environment.TickCount64 - record.WatchedAt), _clock.CountAfter(record.Stamp)));
            }

            alive = _table.Retained.Count;
        }

        Interlocked.Add(ref _collectedAfterRetention, died);
        foreach (RetainedRecord record in forget)
        {
            _table.Forget(record);
        }

        foreach (RetainedObject report in reports)
        {
            // Bounded by the types the program watches.
            Interlocked.Increment(ref _retainedByType.GetOrAdd(report.TypeName, static _ => new StrongBox<long>()).Value);
        }

        Raise(Retained, reports);
        MaybeAnalyzeAutomatically(alive);

        // Last, so that a test that saw the count move also sees the events this sweep raised.
        Interlocked.Increment(ref _sweeps);
    }

    private void Raise<T>(EventHandler<T>? handlers, IReadOnlyList<T> items)
    {
        if (handlers is null || items.Count == 0)
        {
            return;
        }

        Delegate[] list = handlers.GetInvocationList();
        foreach (T item in items)
        {
            foreach (Delegate handler in list)
            {
                try
                {
                    ((EventHandler<T>)handler)(this, item);
                }
                catch (Exception)
                {
                    // A handler's failure is the handler's bug: counted, and the other handlers still run. Rethrowing on
                    // a thread-pool thread would end the process.
                    Interlocked.Increment(ref _failures);
                }
            }
        }
    }

    private static void DefineInstruments(InstrumentRegistry<LeakWatcher> registry)
    {
        registry.CreateObservableCounter(
            InstrumentNames.For("watcher", "additions"),
            InstrumentUnits.Objects,
            "Objects a leak watcher started watching (Watch calls that created a record).",
            static w => w.ReadTotals().Watched);
        registry.CreateObservableCounter(
            InstrumentNames.For("watcher", "reclamations"),
            InstrumentUnits.Objects,
            "Watched objects the garbage collector collected before they were judged (the healthy outcome).",
            static w => w.ReadTotals().Collected);
        registry.CreateObservableCounter(
            InstrumentNames.For("watcher", "retentions"),
            InstrumentUnits.Objects,
            "Watched objects found still alive after the configured number of full collections, by type.",
            static w => w.ReadRetainedByType());
        registry.CreateObservableUpDownCounter(
            InstrumentNames.For("watcher", "pending_object.count"),
            InstrumentUnits.Objects,
            "Watched objects not judged yet.",
            static w => w.ReadTotals().Pending);
        registry.CreateObservableUpDownCounter(
            InstrumentNames.For("watcher", "retained_object.count"),
            InstrumentUnits.Objects,
            "Retained objects still alive and kept for analysis.",
            static w => w.ReadRetainedAlive());
        registry.CreateObservableCounter(
            InstrumentNames.For("watcher", "handler.failures"),
            InstrumentUnits.Failures,
            "Retained and AnalysisCompleted handler calls that threw.",
            static w => Volatile.Read(ref w._failures));
        registry.CreateObservableCounter(
            InstrumentNames.For("watcher", "analyses"),
            InstrumentUnits.Analyses,
            "Analyses of the retained objects that ran, explained or not.",
            static w => Volatile.Read(ref w._analyses));
    }

    private long ReadRetainedAlive()
    {
        lock (_table.RetainedGate)
        {
            return _table.Retained.Count;
        }
    }

    private IEnumerable<(long Value, KeyValuePair<string, object?> Tag)> ReadRetainedByType()
    {
        foreach (KeyValuePair<string, StrongBox<long>> pair in _retainedByType)
        {
            yield return (Volatile.Read(ref pair.Value.Value), new KeyValuePair<string, object?>(SafeMemTags.WatcherObjectType, pair.Key));
        }
    }
}
