using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.ObjectPool;
using SafeMem.Demo.Lab;
using SafeMem.Pooling;

namespace SafeMem.Demo.Scenarios;

/// <summary>
/// Rentals that are never returned: a renderer that throws before its <c>Return</c>. A hand-written pool that keeps every
/// object it created (to dispose them all at shutdown) keeps each lost rental too, and creates a replacement; a
/// <see cref="TrackedObjectPool{T}"/> holds rented objects weakly, so a lost rental is collected, and its leak tracker
/// finds and reports it, with the stack that rented it.
/// </summary>
/// <remarks>
/// Both variants have the same bug: the SafeMem pool does not make the missing <c>Return</c> right, it keeps the bug
/// from growing memory and says where it is.
/// </remarks>
internal sealed class PoolScenario : Scenario
{
    private const int RequestsPerStep = 20;
    private const int MalformedEvery = 10;
    private const int ContextBytes = 64 * 1024;

    public override string Key => "pooling";

    public override string Title => "Pooling";

    public override string NaiveLabel => "hand-written pool that keeps what it created";

    public override string SafeMemLabel => "TrackedObjectPool, every rental tracked";

    public override string Story =>
        $"Each step renders {RequestsPerStep} requests, each with a RenderContext ({ContextBytes / 1024} KB scratch buffer) rented from a pool. A malformed " +
        $"request (1 in {MalformedEvery}) makes the renderer throw before its Return, so that rental is never returned; both variants have this bug. The " +
        "hand-written pool keeps a list of every context it created, to dispose them at shutdown: each lost rental stays in that list, and the pool " +
        "creates a replacement. The TrackedObjectPool holds rented objects weakly: a lost rental is collected, and the pool's LeakTracker finds it and " +
        "reports the stack that rented it.";

    public override IReadOnlyList<CounterChart> Charts { get; } =
    [
        new("objects out on loan", "safemem.pool.outstanding.count", NaiveKey: "outstanding"),
        new("leaks found (rentals never returned)", "safemem.pool.leaks"),
        new("rentals", "safemem.pool.rentals", NaiveKey: "rentals"),
        new("returns", "safemem.pool.returns", NaiveKey: "returns"),
    ];

    public override Variant Create(VariantKind kind) => kind == VariantKind.Naive ? new Renderer(new RetainingPool()) : new Renderer(new TrackedObjectPool<RenderContext>(
            new RenderContextPolicy(),
            new TrackedObjectPoolOptions { Name = LabNames.Prefix + "renderers", SamplingRate = 1, CaptureStackTrace = true }));

    private sealed class RenderContext : IDisposable
    {
        private readonly byte[] _scratch = new byte[ContextBytes];

        public bool IsDisposed { get; private set; }

        public void Draw(int request)
        {
            if (request % MalformedEvery == MalformedEvery - 3)
            {
                throw new FormatException($"request {request} is malformed");
            }

            _scratch[request % _scratch.Length] = (byte)request;
        }

        public void Reset() => Array.Clear(_scratch, 0, 64);

        public void Dispose() => IsDisposed = true;
    }

    private sealed class RenderContextPolicy : PooledObjectPolicy<RenderContext>
    {
        public override RenderContext Create() => new();

        public override bool Return(RenderContext obj)
        {
            obj.Reset();
            return true;
        }
    }

    /// <summary>The classic hand-written pool: a stack of idle objects, and a list of all of them to dispose at shutdown.</summary>
    private sealed class RetainingPool : ObjectPool<RenderContext>, IDisposable
    {
        private readonly List<RenderContext> _created = [];
        private readonly Stack<RenderContext> _idle = new();

        public long Rentals { get; private set; }

        public long Returns { get; private set; }

        public int Created => _created.Count;

        public override RenderContext Get()
        {
            Rentals++;
            if (!_idle.TryPop(out RenderContext? context))
            {
                context = new RenderContext();
                _created.Add(context);
            }

            return context;
        }

        public override void Return(RenderContext obj)
        {
            Returns++;
            obj.Reset();
            _idle.Push(obj);
        }

        public void Dispose()
        {
            foreach (RenderContext context in _created)
            {
                context.Dispose();
            }

            _created.Clear();
            _idle.Clear();
        }
    }

    private sealed class Renderer : Variant
    {
        private readonly ObjectPool<RenderContext> _pool;
        private readonly LeakReportCollector? _reports;
        private long _malformed;

        public Renderer(ObjectPool<RenderContext> pool)
        {
            _pool = pool;
            if (pool is TrackedObjectPool<RenderContext> tracked)
            {
                _reports = new LeakReportCollector(tracked.LeakTracker!);
            }
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        public override void Step(int step)
        {
            for (int i = 0; i < RequestsPerStep; i++)
            {
                try
                {
                    Render(((step - 1) * RequestsPerStep) + i);
                }
                catch (FormatException)
                {
                    _malformed++;
                }
            }
        }

        public override void Observe(IDictionary<string, double> figures)
        {
            if (_pool is RetainingPool pool)
            {
                figures["rentals"] = pool.Rentals;
                figures["returns"] = pool.Returns;
                figures["outstanding"] = pool.Rentals - pool.Returns;
                figures["created"] = pool.Created;
            }
        }

        public override IEnumerable<string> Conclude(Sample first, Sample last)
        {
            if (_pool is RetainingPool pool)
            {
                yield return string.Create(CultureInfo.InvariantCulture,
                    $"Hand-written pool: {pool.Rentals:N0} rentals, {pool.Returns:N0} returns; the {pool.Rentals - pool.Returns:N0} rentals never returned ({_malformed:N0} malformed requests) are all still held, in the list of the {pool.Created:N0} contexts it created. It cannot tell a lost rental from one in use.");
                yield break;
            }

            yield return string.Create(CultureInfo.InvariantCulture,
                $"TrackedObjectPool: {Format.Count(last.Value("safemem.pool.rentals") ?? 0)} rentals, {Format.Count(last.Value("safemem.pool.returns") ?? 0)} returns, {Format.Count(last.Value("safemem.pool.leaks") ?? 0)} rentals found never returned ({_malformed:N0} malformed requests) and reported, {Format.Count(last.Value("safemem.pool.outstanding.count") ?? 0)} out on loan.");
            yield return string.Create(CultureInfo.InvariantCulture,
                $"It created {Format.Count(last.Value("safemem.pool.creations") ?? 0)} contexts, one to start with and one to replace each lost rental: the bug still costs allocations, but no memory stays behind.");
        }

        public override IReadOnlyList<LeakReportGroup> LeakReports(Sample last) =>
            _reports?.Groups(last.Value("safemem.pool.leaks") ?? 0) ?? [];

        protected override void Dispose(bool disposing) => (_pool as IDisposable)?.Dispose();

        // Not inlined, so that every report has the same creation stack (a hot small method is inlined, and its frame is
        // then missing from a captured stack).
        [MethodImpl(MethodImplOptions.NoInlining)]
        private void Render(int request)
        {
            RenderContext context = _pool.Get();
            context.Draw(request); // throws for a malformed request, and the Return below is skipped: the bug
            _pool.Return(context);
        }
    }
}
