using System.Globalization;
using SafeMem.Demo.Lab;
using SafeMem.Registries;

namespace SafeMem.Demo.Scenarios;

/// <summary>
/// A global id-to-session registry: a static Dictionary remembers every session that ever existed; a
/// <see cref="WeakValueRegistry{TKey, TValue}"/> keeps one live instance per id and forgets a session when its last
/// user lets go.
/// </summary>
internal sealed class RegistryScenario : Scenario
{
    private const int SessionsPerStep = 20;
    private const int StepsActive = 10;
    private const int SessionBytes = 8 * 1024;
    private const int LookupsPerStep = 50;

    public override string Key => "registries";

    public override string Title => "Registries";

    public override string NaiveLabel => "static Dictionary<int, Session> registry";

    public override string SafeMemLabel => "WeakValueRegistry<int, Session>";

    public override string Story =>
        $"Each step {SessionsPerStep} sessions start ({SessionBytes / 1024} KB of state each) and register by id; sessions end after {StepsActive} steps, " +
        $"when their handler drops them. {LookupsPerStep} requests per step find an active session by id through the registry. Nothing unregisters: " +
        "the Dictionary keeps every session that ever existed; the WeakValueRegistry keeps the active ones.";

    public override IReadOnlyList<CounterChart> Charts { get; } =
    [
        new("entries held", "safemem.registry.entry.count", NaiveKey: "entries"),
        new("entries reclaimed (session collected)", "safemem.registry.reclamations"),
    ];

    public override Variant Create(VariantKind kind) =>
        kind == VariantKind.Naive ? new Server(new DictionaryRegistry()) : new Server(new WeakRegistry());

    private interface IRegistry
    {
        Session GetOrAdd(int id);

        int? Count { get; }
    }

    private sealed class Session(int id)
    {
        public int Id { get; } = id;

        public byte[] State { get; } = new byte[SessionBytes];
    }

    private sealed class DictionaryRegistry : IRegistry
    {
        private readonly Dictionary<int, Session> _sessions = [];

        public int? Count => _sessions.Count;

        public Session GetOrAdd(int id)
        {
            if (!_sessions.TryGetValue(id, out Session? session))
            {
                _sessions[id] = session = new Session(id);
            }

            return session;
        }
    }

    private sealed class WeakRegistry : IRegistry
    {
        private readonly WeakValueRegistry<int, Session> _sessions = new(LabNames.Prefix + "sessions");

        // Read by the lab through telemetry.
        public int? Count => null;

        public Session GetOrAdd(int id) => _sessions.GetOrAdd(id, static i => new Session(i));
    }

    private sealed class Server(IRegistry registry) : Variant
    {
        private readonly Queue<Session[]> _active = new();
        private long _lookups;
        private long _wrongInstance;

        public override void Step(int step)
        {
            if (_active.Count == StepsActive)
            {
                _active.Dequeue();
            }

            var started = new Session[SessionsPerStep];
            for (int i = 0; i < started.Length; i++)
            {
                started[i] = registry.GetOrAdd((step * SessionsPerStep) + i);
            }

            _active.Enqueue(started);

            // Requests for active sessions arrive by id; the registry must hand back the one live instance.
            var random = new Random(step);
            Session[][] active = [.. _active];
            for (int i = 0; i < LookupsPerStep; i++)
            {
                Session expected = active[random.Next(active.Length)][random.Next(SessionsPerStep)];
                _lookups++;
                if (!ReferenceEquals(registry.GetOrAdd(expected.Id), expected))
                {
                    _wrongInstance++;
                }
            }
        }

        public override void Observe(IDictionary<string, double> figures)
        {
            if (registry.Count is int count)
            {
                figures["entries"] = count;
            }
        }

        public override IEnumerable<string> Conclude(Sample first, Sample last)
        {
            bool naive = registry is DictionaryRegistry;
            double entries = (naive ? last.Value("entries") : last.Value("safemem.registry.entry.count")) ?? 0;
            yield return string.Create(CultureInfo.InvariantCulture,
                $"{(naive ? "Dictionary" : "WeakValueRegistry")}: {Format.Count(entries)} entries at the end for {_active.Sum(s => s.Length)} active sessions.");
            yield return _wrongInstance == 0
                ? string.Create(CultureInfo.InvariantCulture, $"Every lookup of an active session by id returned its live instance ({_lookups:N0} lookups).")
                : string.Create(CultureInfo.InvariantCulture, $"{_wrongInstance:N0} of {_lookups:N0} lookups returned another instance than the live one.");
        }
    }
}
