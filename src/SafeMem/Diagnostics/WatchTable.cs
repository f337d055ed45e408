using System.Runtime.InteropServices;

namespace SafeMem.Diagnostics;

/// <summary>
/// The weak GC handles a <see cref="LeakWatcher"/> owns, and the records they belong to: the stripes of pending records
/// and the retained records kept for analysis. Its finalizer frees every handle of a watcher dropped without
/// <see cref="LeakWatcher.Dispose"/>.
/// </summary>
/// <remarks>
/// <para>
/// The handles are raw weak GC handles rather than <see cref="WeakReference"/> objects: one allocation and one
/// finalizable object fewer per watched object, which is what keeps <see cref="LeakWatcher.Watch"/> close to the cost of
/// a <see cref="WeakReference"/>. Raw handles must be freed by hand; this table is the one place that does it.
/// </para>
/// <para>
/// <b>Analyses lease the retained handles</b>: an explainer reads them from a dump written while it runs, so no retained
/// handle may be freed (and its slot reused for another object) until every running analysis has ended. While
/// <see cref="Leases"/> is not zero the sweep skips its re-check of retained objects, and <see cref="Release"/> leaves the
/// retained handles to the last lease's end. Lock order: a stripe's gate and <see cref="RetainedGate"/> are never held
/// together.
/// </para>
/// </remarks>
internal sealed class WatchTable
{
    public WatchTable(int stripes)
    {
        Stripes = new WatchStripe[stripes];
        for (int i = 0; i < stripes; i++)
        {
            Stripes[i] = new WatchStripe();
        }

        Mask = stripes - 1;
    }

    ~WatchTable()
    {
        // Unreachable: no sweep, analysis or caller can use the table any more, so no lock is needed.
        foreach (WatchStripe stripe in Stripes)
        {
            stripe.ReleasePending();
        }

        FreeRetained();
    }

    public WatchStripe[] Stripes { get; }

    public int Mask { get; }

    /// <summary>Guards <see cref="Retained"/>, <see cref="Leases"/> and <see cref="Released"/>.</summary>
    public object RetainedGate { get; } = new();

    /// <summary>The retained objects kept for analysis, oldest first.</summary>
    public List<RetainedRecord> Retained { get; } = [];

    public int Leases { get; set; }

    public bool Released { get; private set; }

    public WatchStripe StripeOf(int hash) => Stripes[hash & Mask];

    /// <summary>Drops a retained object's index entry, then frees its handle.</summary>
    public void Forget(RetainedRecord record)
    {
        WatchStripe stripe = StripeOf(record.Hash);
        lock (stripe.Gate)
        {
            stripe.Forget(record.Hash, record.Handle);
        }

        GCHandle.FromIntPtr(record.Handle).Free();
    }

    /// <summary>Frees every handle (the retained ones at once, or when the last analysis ends) and refuses further records.</summary>
    public void Release()
    {
        foreach (WatchStripe stripe in Stripes)
        {
            lock (stripe.Gate)
            {
                stripe.Dispose();
            }
        }

        lock (RetainedGate)
        {
            Released = true;
            if (Leases > 0)
            {
                return;
            }

            FreeRetained();
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>Ends an analysis's lease; the last one after <see cref="Release"/> frees the retained handles.</summary>
    public void EndLease()
    {
        lock (RetainedGate)
        {
            if (--Leases > 0 || !Released)
            {
                return;
            }

            FreeRetained();
        }

        GC.SuppressFinalize(this);
    }

    private void FreeRetained()
    {
        foreach (RetainedRecord record in Retained)
        {
            GCHandle.FromIntPtr(record.Handle).Free();
        }

        Retained.Clear();
    }
}
