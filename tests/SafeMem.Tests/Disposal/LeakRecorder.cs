using System.Collections.Concurrent;
using SafeMem.Disposal;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Disposal;

/// <summary>Collects a tracker's leak reports, and drives collections until the expected reports arrive (bounded).</summary>
public sealed class LeakRecorder : IDisposable
{
    private readonly LeakTracker _tracker;
    private readonly ConcurrentQueue<(LeakReport Report, bool OnFinalizerThread, object? Sender)> _reports = new();

    public LeakRecorder(LeakTracker tracker)
    {
        _tracker = tracker;
        _tracker.LeakDetected += OnLeak;
    }

    public IReadOnlyList<LeakReport> Reports => _reports.Select(r => r.Report).ToList();

    public bool AnyOffThreadPool => _reports.Any(r => r.OnFinalizerThread);

    public bool AllFromTracker => _reports.All(r => ReferenceEquals(r.Sender, _tracker));

    /// <summary>Collects until at least <paramref name="count"/> reports arrived or the attempts are spent; returns the reports.</summary>
    public IReadOnlyList<LeakReport> CollectUntil(int count, int attempts = 20)
    {
        // Each attempt waits for time to pass, not for one report: reports arrive in bursts on the thread pool, and a
        // wait that ends at each arrival would spend every attempt at once.
        for (int i = 0; i < attempts && _reports.Count < count; i++)
        {
            GcAssert.FullCollect();
            WaitForReports(count, TimeSpan.FromMilliseconds(50 + (20 * i)));
        }

        return Reports;
    }

    /// <summary>Collects a few times and lets any report arrive: for asserting that none does.</summary>
    public IReadOnlyList<LeakReport> CollectAndSettle(int rounds = 3)
    {
        for (int i = 0; i < rounds; i++)
        {
            GcAssert.FullCollect();
            Thread.Sleep(50);
        }

        return Reports;
    }

    public void Dispose()
    {
        _tracker.LeakDetected -= OnLeak;
    }

    private void WaitForReports(int count, TimeSpan timeout)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (_reports.Count < count && Environment.TickCount64 < deadline)
        {
            Thread.Sleep(5);
        }
    }

    private void OnLeak(object? sender, LeakReport report)
    {
        // Reports must come on the thread pool, never on the finalizer thread (which is not a pool thread).
        _reports.Enqueue((report, !Thread.CurrentThread.IsThreadPoolThread, sender));
    }
}
