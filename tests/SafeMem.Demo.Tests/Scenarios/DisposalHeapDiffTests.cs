using SafeMem.Demo.Lab;
using SafeMem.Demo.Scenarios;
using SafeMem.Diagnostics.Heap;
using Xunit.Abstractions;

namespace SafeMem.Demo.Tests.Scenarios;

/// <summary>
/// The heap snapshot diff docs/production.md shows, taken around the leak lab's disposal scenario as a staging process
/// would take it around a stretch of traffic: what the diff points at, and (the control) that it points at nothing
/// when the leak is fixed. Each test takes two dumps of this process.
/// </summary>
public sealed class DisposalHeapDiffTests(ITestOutputHelper output)
{
    private const int Steps = 20;

    // Three early returns a step, each leaving one 48 KB buffer and one stopping-token registration behind.
    private const int Abandoned = 3 * Steps;

    private const string CallbackNode = "System.Threading.CancellationTokenSource.CallbackNode";

    // The service under the snapshots, held by a static field as a service's singletons are (through its host): a path
    // from a static root is found on every OS, while one through a local variable can be missed on Linux.
    private static Variant? s_service;

    [Fact]
    public void Diff_AroundTheNaiveVariant_ShowsTheBuffersAndTheRegistrationsThatHoldThem()
    {
        HeapSnapshotDiff diff = DiffAround(VariantKind.Naive, out string paths);

        // Largest growth first: the abandoned buffers (other, small byte arrays come and go, so the bytes tell, not the
        // count), then one stopping-token registration per buffer, and the path from one to the other.
        HeapTypeDelta buffers = diff.Grown[0];
        Assert.Equal("byte[]", buffers.TypeName);
        Assert.InRange(buffers.BytesDelta, Abandoned * 48 * 1024, (Abandoned * 48 * 1024) + (512 * 1024));
        Assert.Equal(Abandoned, Assert.Single(diff.Grown, d => d.TypeName == CallbackNode).CountDelta);
        Assert.Contains("-> CancellationTokenSource.CallbackNode.CallbackState\n", paths, StringComparison.Ordinal);
    }

    [Fact]
    public void Diff_AroundTheScopedVariant_ShowsNoSuchGrowth()
    {
        HeapSnapshotDiff diff = DiffAround(VariantKind.SafeMem, out _);

        Assert.DoesNotContain(diff.Grown, d => d.TypeName == CallbackNode);
        Assert.True((diff.Find(typeof(byte[]))?.BytesDelta ?? 0) < Abandoned * 48 * 1024 / 4, diff.ToString(maxRows: 8));
    }

    private HeapSnapshotDiff DiffAround(VariantKind kind, out string paths)
    {
        using var telemetry = new TelemetryReader();
        using Variant variant = new DisposalScenario().Create(kind);
        s_service = variant;
        try
        {
            // Warm-up: first-use allocations (the JIT, the tracker's tables, formatting a first report) are not what
            // this looks for.
            variant.Step(1);
            Settle(variant, telemetry);

            using HeapSnapshot before = HeapSnapshot.Take();
            for (int step = 2; step <= Steps + 1; step++)
            {
                variant.Step(step);
            }

            Settle(variant, telemetry);
            using HeapSnapshot after = HeapSnapshot.Take();
            HeapSnapshotDiff diff = HeapSnapshot.Diff(before, after);
            output.WriteLine(diff.ToString(maxRows: 8));

            paths = string.Join("\n", after.FindRetentionPaths(o => o.TypeName == "byte[]" && o.Bytes > 48 * 1024, maxPaths: 1));
            output.WriteLine(paths);
            return diff;
        }
        finally
        {
            s_service = null;
        }
    }

    /// <summary>
    /// Lets the tracker find this variant's leaks and deliver its reports before a snapshot: a report still queued holds
    /// its creation stack (StackFrame objects), which would show up in the diff as growth of its own.
    /// </summary>
    private static void Settle(Variant variant, TelemetryReader telemetry)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        telemetry.ReadInto(values);
        _ = variant.LeakReports(new Sample(0, 0, 0, values));
    }
}
