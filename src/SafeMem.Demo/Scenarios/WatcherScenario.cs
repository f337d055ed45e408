using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SafeMem.Demo.Lab;
using SafeMem.Diagnostics;

namespace SafeMem.Demo.Scenarios;

/// <summary>
/// The leak nobody suspected, found in a running host: a singleton keeps the scoped objects of the requests it saw (a
/// captive dependency). Both variants run a Microsoft.Extensions host whose container watches every scoped service once
/// its scope ends (<c>AddSafeMemLeakWatcher</c> with <c>WatchScopedServices</c>); the naive one's failure log keeps each
/// failed request's context, the fixed one copies the two strings it shows. The watcher reports each context still
/// alive two full collections after its scope ended, and at the end of the run explains them
/// (<see cref="LeakWatcher.AnalyzeAsync"/> with SafeMem.Diagnostics.Heap): the path names the singleton and its field.
/// </summary>
internal sealed class WatcherScenario : Scenario
{
    private const int RequestsPerStep = 20;
    private const int SnapshotBytes = 32 * 1024;

    // A running host is held by its program (the generic host's Main waits on it); the lab's variants stand in for
    // Main, and this list for its frame, so the explainer finds the container through a static field rather than
    // through a stack slot that a dump's stack walk may miss.
    private static readonly List<IHost> s_runningHosts = [];

    public override string Key => "watcher";

    public override string Title => "Leak watcher";

    public override string NaiveLabel => "singleton failure log keeps the request's context";

    public override string SafeMemLabel => "singleton failure log keeps two strings";

    public override string Story =>
        $"A checkout service runs in a Microsoft.Extensions host. Each step serves {RequestsPerStep} requests, each in a DI scope with a scoped " +
        $"CheckoutContext (a {SnapshotBytes / 1024} KB cart snapshot); 1 in 10 fails. A singleton FailureLog remembers the failures for a diagnostics " +
        "page: the naive one keeps the failed request's CheckoutContext itself, a captive dependency that outlives its scope for as long as the " +
        "service runs; the fixed one copies the order id and the message. Both containers watch every scoped service once its scope ends " +
        "(AddSafeMemLeakWatcher, WatchScopedServices), so the watcher reports each context still alive two full collections later, and at the " +
        "end of the run explains them with a dump of the process (AnalyzeAsync).";

    public override IReadOnlyList<CounterChart> Charts { get; } =
    [
        new("scoped objects still alive after their scope (found by LeakWatcher)", "safemem.watcher.retentions", NaiveKey: "safemem.watcher.retentions", ZeroWhenAbsent: true),
        new("scoped objects collected after their scope", "safemem.watcher.reclamations", NaiveKey: "safemem.watcher.reclamations"),
        new("scoped objects waiting for two full collections", "safemem.watcher.pending_object.count", NaiveKey: "safemem.watcher.pending_object.count"),
    ];

    public override Variant Create(VariantKind kind) => new CheckoutService(kind == VariantKind.Naive);

    /// <summary>One request's state: scoped, so it should die with its scope.</summary>
    public sealed class CheckoutContext
    {
        public byte[] CartSnapshot { get; } = new byte[SnapshotBytes];

        public string OrderId { get; set; } = string.Empty;
    }

    /// <summary>Serves one request with the scope's context.</summary>
    public sealed class CheckoutHandler(CheckoutContext context, FailureLog failures)
    {
        [MethodImpl(MethodImplOptions.NoInlining)]
        public void Handle(int step, int request)
        {
            context.OrderId = string.Create(CultureInfo.InvariantCulture, $"order-{step}-{request}");
            context.CartSnapshot[0] = (byte)request;
            if ((step + request) % 10 == 0)
            {
                failures.Record(context, "payment declined");
            }
        }
    }

    /// <summary>The singleton behind a diagnostics page: what failed recently.</summary>
    public abstract class FailureLog
    {
        public abstract int Count { get; }

        public abstract void Record(CheckoutContext context, string message);
    }

    /// <summary>The bug: it keeps the scoped context, and with it the cart snapshot, for the life of the service.</summary>
    public sealed class CapturingFailureLog : FailureLog
    {
        private readonly List<(CheckoutContext Context, string Message)> _failures = [];

        public override int Count => _failures.Count;

        public override void Record(CheckoutContext context, string message) => _failures.Add((context, message));
    }

    /// <summary>The fix: it copies what the page shows.</summary>
    public sealed class CopyingFailureLog : FailureLog
    {
        private readonly List<(string OrderId, string Message)> _failures = [];

        public override int Count => _failures.Count;

        public override void Record(CheckoutContext context, string message) => _failures.Add((context.OrderId, message));
    }

    private sealed class CheckoutService : Variant
    {
        private readonly IHost _host;
        private readonly LeakWatcher _watcher;
        private readonly bool _naive;
        private int _requests;

        public CheckoutService(bool naive)
        {
            _naive = naive;
            HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.Services.AddSingleton<FailureLog>(naive ? new CapturingFailureLog() : new CopyingFailureLog());
            builder.Services.AddScoped<CheckoutContext>();
            builder.Services.AddScoped<CheckoutHandler>();

            // Last, after the service's own registrations: it watches the scoped services registered before it.
            builder.Services.AddSafeMemLeakWatcher(options =>
            {
                options.Name = LabNames.Prefix + "requests";
                options.WatchScopedServices = true;
            });
            _host = builder.Build();
            _host.Start();
            _watcher = _host.Services.GetRequiredService<LeakWatcher>();
            lock (s_runningHosts)
            {
                s_runningHosts.Add(_host);
            }
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        public override void Step(int step)
        {
            for (int request = 0; request < RequestsPerStep; request++)
            {
                _requests++;
                using IServiceScope scope = _host.Services.CreateScope();
                scope.ServiceProvider.GetRequiredService<CheckoutHandler>().Handle(step, request);
            }
        }

        public override void Observe(IDictionary<string, double> figures)
        {
            // The watcher judges on a thread-pool thread after each full collection, so the lab's collections start a
            // sweep that may still run while the instruments are read (one judged object then shows in no figure).
            // Sample the settled watcher: its by-type retentions caught up with its total, and nothing moved for 5 ms.
            LeakWatcherStatistics before = _watcher.GetStatistics();
            for (var waited = Stopwatch.StartNew(); waited.ElapsedMilliseconds < 2_000;)
            {
                Thread.Sleep(5);
                LeakWatcherStatistics now = _watcher.GetStatistics();
                if (now.RetainedByType.Values.Sum() == now.Retained && (now.Pending, now.Collected, now.Retained) == (before.Pending, before.Collected, before.Retained))
                {
                    return;
                }

                before = now;
            }
        }

        public override IEnumerable<string> Conclude(Sample first, Sample last)
        {
            double retained = last.Value("safemem.watcher.retentions") ?? 0;
            double collected = last.Value("safemem.watcher.reclamations") ?? 0;
            int failures = _host.Services.GetRequiredService<FailureLog>().Count;
            yield return string.Create(CultureInfo.InvariantCulture,
                $"{_requests:N0} requests, {failures:N0} failed; the watcher saw {Format.Count(collected)} scoped objects collected after their scope and reported {Format.Count(retained)} still alive two full collections later (safemem.watcher.retentions).");
            if (_naive)
            {
                yield return string.Create(CultureInfo.InvariantCulture,
                    $"Each failed request's CheckoutContext stays reachable from the singleton FailureLog: {Format.Megabytes((long)failures * SnapshotBytes)} of cart snapshots kept for as long as the service runs. The analysis below names the singleton and its field.");
            }
        }

        public override string? LeakAnalysis()
        {
            if (_watcher.GetStatistics().RetainedAlive == 0)
            {
                return null;
            }

            // One dump of this process: what the explainer reads to name each retained object's path.
            return _watcher.AnalyzeAsync().GetAwaiter().GetResult().ToString();
        }

        protected override void Dispose(bool disposing)
        {
            lock (s_runningHosts)
            {
                s_runningHosts.Remove(_host);
            }

            _host.StopAsync().GetAwaiter().GetResult();
            _host.Dispose();
        }
    }
}
