using System.Runtime.CompilerServices;
using SafeMem.Registries;

namespace SafeMem.Demo.Scenarios;

/// <summary>A global registry of sessions never shrinks; a weak-value registry keeps one live instance per id only.</summary>
internal sealed class RegistryScenario : IScenario
{
    private const int Sessions = 10_000;

    private static readonly Dictionary<int, Session> s_plainRegistry = [];
    private static readonly WeakValueRegistry<int, Session> s_sessions = new("demo.sessions");

    public string Key => "registries";

    public string Title => "Registries: a static Dictionary<int, Session> vs WeakValueRegistry (one live instance per id)";

    public void Run(TextWriter output)
    {
        Heap.Isolated(() => OpenSessions(static id => s_plainRegistry[id] = new Session(id)));
        Heap.Collect();
        output.WriteLine($"  before: Dictionary registry    {s_plainRegistry.Count,6:N0} entries after every session ended (it never shrinks)");
        s_plainRegistry.Clear();

        Session kept = Heap.Isolated(() => OpenSessions(static id => s_sessions.GetOrAdd(id, static i => new Session(i))));
        Heap.Collect();
        output.WriteLine($"  after:  WeakValueRegistry      {s_sessions.Count,6:N0} entries after all but one session ended; reclaimed so far {s_sessions.GetStatistics().Reclamations:N0}");
        output.WriteLine($"          asking again for session {kept.Id} returns the same live instance: {ReferenceEquals(kept, s_sessions.GetOrAdd(kept.Id, static i => new Session(i)))}");
    }

    public void Dispose()
    {
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Session OpenSessions(Func<int, Session> open)
    {
        Session last = null!;
        for (int id = 0; id < Sessions; id++)
        {
            last = open(id);
        }

        return last;
    }

    private sealed class Session(int id)
    {
        public int Id { get; } = id;

        public byte[] State { get; } = new byte[1024];
    }
}
