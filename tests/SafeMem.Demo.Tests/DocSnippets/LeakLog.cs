using Microsoft.Extensions.Logging.Testing;

namespace SafeMem.Demo.Tests.DocSnippets;

/// <summary>The log of a doc snippet's test, kept by the registry's <see cref="FakeLogCollector"/>, read after the collections that make a leak show.</summary>
internal static class LeakLog
{
    /// <summary>
    /// Runs full collections until the collector holds a record (or <paramref name="timeout"/> passes), then returns the
    /// one record as "Level Category: message"; fails unless there is exactly one.
    /// </summary>
    public static string SingleAfterCollections(FakeLogCollector collector, TimeSpan timeout)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (collector.Count == 0 && DateTime.UtcNow < deadline)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            Thread.Sleep(20);
        }

        FakeLogRecord record = Assert.Single(collector.GetSnapshot());
        return $"{record.Level} {record.Category}: {record.Message}";
    }
}
