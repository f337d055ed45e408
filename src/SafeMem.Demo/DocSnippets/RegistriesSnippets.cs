using SafeMem.Registries;

namespace SafeMem.Demo.DocSnippets;

// The code docs/registries.md shows, compiled (checked by tests/SafeMem.Tests/DocsTests.cs). Not run by the demo.
internal static class RegistriesSnippets
{
    // Every open connection, without keeping one alive.
    private static readonly WeakRegistry<Connection> s_open = new("connections");

    // Per-connection statistics that live exactly as long as their connection, and can be enumerated.
    private static readonly WeakKeyedRegistry<Connection, ConnectionStats> s_stats = new("connection-stats");

    public static Connection Open(string host)
    {
        var connection = new Connection(host);
        s_open.Add(connection);
        s_stats.GetOrAdd(connection, static _ => new ConnectionStats());
        return connection;
    }

    public static int OpenCount() => s_open.Count;

    public static long BytesSent()
    {
        long total = 0;
        foreach ((Connection _, ConnectionStats stats) in s_stats)
        {
            total += stats.BytesSent;
        }

        return total;
    }

    public static void Close(Connection connection) => s_open.Remove(connection);

    internal sealed class Connection(string host)
    {
        public string Host { get; } = host;
    }

    internal sealed class ConnectionStats
    {
        public long BytesSent { get; set; }
    }
}
