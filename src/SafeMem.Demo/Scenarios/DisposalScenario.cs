using System.Globalization;
using System.Runtime.CompilerServices;
using SafeMem.Demo.Lab;
using SafeMem.Disposal;

namespace SafeMem.Demo.Scenarios;

/// <summary>
/// Resources that are never disposed: an export session registers on the service's stopping token, and a handler that
/// returns early without disposing it leaves that registration, and the buffer it holds, behind for the life of the
/// service. A <see cref="DisposalScope"/> per request disposes on every path. A <see cref="LeakTracker"/> watches the
/// sessions in both variants and reports every one that became unreachable undisposed, with the stack that created it.
/// </summary>
internal sealed class DisposalScenario : Scenario
{
    private const int CsvPerStep = 10;
    private const int PdfPerStep = 10;
    private const int BufferBytes = 48 * 1024;
    private const int Probes = 32;

    public override string Key => "disposal";

    public override string Title => "Disposal";

    public override string NaiveLabel => "Dispose() at the end of the happy path";

    public override string SafeMemLabel => "DisposalScope per request";

    public override string Story =>
        $"Each step serves {CsvPerStep} CSV and {PdfPerStep} PDF exports. Each opens an ExportSession ({BufferBytes / 1024} KB buffer, plus a registration " +
        "on the service's stopping token that would flush the buffer if the service shut down mid-export) and an output stream. The naive handlers " +
        "dispose both at the end of the happy path only: a CSV export that fails validation (1 in 5) and a PDF export that times out (1 in 10) return " +
        "early, and the stopping token's registration keeps each abandoned buffer alive for as long as the service runs. With a DisposalScope per " +
        "request the early returns dispose too. A LeakTracker (stack capture on) watches the sessions in both variants.";

    public override IReadOnlyList<CounterChart> Charts { get; } =
    [
        new("leaks reported (sessions never disposed, found by LeakTracker)", "safemem.tracker.leaks", NaiveKey: "safemem.tracker.leaks", ZeroWhenAbsent: true),
        new("sessions disposed", "safemem.tracker.disposals", NaiveKey: "safemem.tracker.disposals"),
        new("items disposed by scopes", "safemem.scope.disposals"),
        new($"of the last {Probes} abandoned sessions, buffers still alive", "abandonedAlive", NaiveKey: "abandonedAlive"),
    ];

    public override Variant Create(VariantKind kind) => kind == VariantKind.Naive ? new NaiveExports() : new ScopedExports();

    private static bool CsvIsValid(int request) => request % 5 != 0;

    private static bool PdfRendersInTime(int step, int request) => (step + request) % 10 != 0;

    /// <summary>An export in progress: a buffer, and a registration that flushes it if the service stops first.</summary>
    private sealed class ExportSession : TrackedDisposable
    {
        private readonly byte[] _buffer = new byte[BufferBytes];
        private readonly CancellationTokenRegistration _onStopping;

        // Not inlined, here and in the handlers, so that every report of one code path has one creation stack: once a small
        // method is hot the JIT inlines it, and a stack captured then has no frame for it (see docs/production.md).
        [MethodImpl(MethodImplOptions.NoInlining)]
        public ExportSession(LeakTracker tracker, CancellationToken stopping)
            : base(tracker)
        {
            // The callback's state is the buffer, not the session: the token pins the buffer, while the session itself
            // can become unreachable, which is what lets the tracker see that nobody disposed it.
            _onStopping = stopping.Register(static buffer => Flush((byte[])buffer!), _buffer);
        }

        public WeakReference<byte[]> Buffer => new(_buffer);

        public void Write(Stream output, int request)
        {
            _buffer[0] = (byte)request;
            output.Write(_buffer, 0, 64);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _onStopping.Dispose();
            }
        }

        private static void Flush(byte[] buffer) => GC.KeepAlive(buffer); // would write the partial export; the lab never stops the service
    }

    /// <summary>The service: its stopping token and its tracker live as long as it does.</summary>
    private abstract class ExportService : Variant
    {
        // Weak references to the buffers of the most recently abandoned sessions only: a bounded probe.
        private readonly WeakReference<byte[]>?[] _abandoned = new WeakReference<byte[]>?[Probes];
        private int _abandonedCount;

        protected ExportService()
        {
            Tracker = new LeakTracker(LabNames.Prefix + "exports", new LeakTrackerOptions { CaptureStackTrace = true });
            Reports = new LeakReportCollector(Tracker);
        }

        protected CancellationTokenSource Stopping { get; } = new();

        protected LeakTracker Tracker { get; }

        protected LeakReportCollector Reports { get; }

        protected int Opened { get; set; }

        protected int Abandoned => _abandonedCount;

        [MethodImpl(MethodImplOptions.NoInlining)]
        public override void Step(int step)
        {
            for (int request = 0; request < CsvPerStep; request++)
            {
                Opened++;
                ExportCsv(request);
            }

            for (int request = 0; request < PdfPerStep; request++)
            {
                Opened++;
                ExportPdf(step, request);
            }
        }

        public override void Observe(IDictionary<string, double> figures) =>
            figures["abandonedAlive"] = _abandoned.Count(r => r is not null && r.TryGetTarget(out _));

        public override IReadOnlyList<LeakReportGroup> LeakReports(Sample last) => Reports.Groups(last.Value("safemem.tracker.leaks") ?? 0);

        protected abstract void ExportCsv(int request);

        protected abstract void ExportPdf(int step, int request);

        /// <summary>An export that gave up early (invalid, or timed out): remembered weakly, to see whether its buffer dies.</summary>
        protected void GiveUp(ExportSession session) => _abandoned[_abandonedCount++ % Probes] = session.Buffer;

        protected override void Dispose(bool disposing) => Stopping.Dispose();
    }

    private sealed class NaiveExports : ExportService
    {
        [MethodImpl(MethodImplOptions.NoInlining)]
        protected override void ExportCsv(int request)
        {
            var session = new ExportSession(Tracker, Stopping.Token);
            var output = new MemoryStream();
            if (!CsvIsValid(request))
            {
                GiveUp(session);
                return; // the bug: this early return skips the two Dispose calls below
            }

            session.Write(output, request);
            output.Dispose();
            session.Dispose();
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        protected override void ExportPdf(int step, int request)
        {
            var session = new ExportSession(Tracker, Stopping.Token);
            var output = new MemoryStream();
            if (!PdfRendersInTime(step, request))
            {
                GiveUp(session);
                return; // the same bug on another path
            }

            session.Write(output, request);
            output.Dispose();
            session.Dispose();
        }

        public override IEnumerable<string> Conclude(Sample first, Sample last)
        {
            double leaks = last.Value("safemem.tracker.leaks") ?? 0;
            double disposed = last.Value("safemem.tracker.disposals") ?? 0;
            yield return string.Create(CultureInfo.InvariantCulture,
                $"{Opened:N0} sessions opened, {Format.Count(disposed)} disposed; LeakTracker reported {Format.Count(leaks)} that became unreachable without being disposed (safemem.tracker.leaks), one for each early return ({Abandoned:N0}).");
            yield return string.Create(CultureInfo.InvariantCulture,
                $"Unreachable, yet not gone: of the last {Math.Min(Probes, Abandoned)} abandoned sessions, {Format.Count(last.Value("abandonedAlive") ?? 0)} buffers are still alive, held by the stopping token's registrations; at {BufferBytes / 1024} KB each, the {Abandoned:N0} abandoned sessions pin {Format.Megabytes((long)Abandoned * BufferBytes)}.");
        }
    }

    private sealed class ScopedExports : ExportService
    {
        [MethodImpl(MethodImplOptions.NoInlining)]
        protected override void ExportCsv(int request)
        {
            using var scope = new DisposalScope(LabNames.Prefix + "request");
            ExportSession session = scope.Add(new ExportSession(Tracker, Stopping.Token));
            MemoryStream output = scope.Add(new MemoryStream());
            if (!CsvIsValid(request))
            {
                GiveUp(session);
                return; // the same early return: the scope disposes both anyway
            }

            session.Write(output, request);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        protected override void ExportPdf(int step, int request)
        {
            using var scope = new DisposalScope(LabNames.Prefix + "request");
            ExportSession session = scope.Add(new ExportSession(Tracker, Stopping.Token));
            MemoryStream output = scope.Add(new MemoryStream());
            if (!PdfRendersInTime(step, request))
            {
                GiveUp(session);
                return;
            }

            session.Write(output, request);
        }

        public override IEnumerable<string> Conclude(Sample first, Sample last)
        {
            double disposed = last.Value("safemem.tracker.disposals") ?? 0;
            double items = (last.Value("safemem.scope.disposals") ?? 0) - (first.Value("safemem.scope.disposals") ?? 0);
            yield return string.Create(CultureInfo.InvariantCulture,
                $"{Opened:N0} sessions opened, {Format.Count(disposed)} disposed ({Abandoned:N0} of them on an early return); the scopes disposed {Format.Count(items)} items; LeakTracker reported {Format.Count(last.Value("safemem.tracker.leaks") ?? 0)} leaks.");
            yield return string.Create(CultureInfo.InvariantCulture,
                $"Of the last {Math.Min(Probes, Abandoned)} abandoned sessions, {Format.Count(last.Value("abandonedAlive") ?? 0)} buffers are still alive.");
        }
    }
}
