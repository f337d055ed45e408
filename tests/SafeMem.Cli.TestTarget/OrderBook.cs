namespace SafeMem.Cli.TestTarget;

/// <summary>The classic leak: every step adds 20 orders (200 a second) to a static list that nothing ever empties.</summary>
internal static class OrderBook
{
    // The planted leak safemem's tests must find: a static list only ever added to.
#pragma warning disable SM1001
    private static readonly List<Order> s_history = [];
#pragma warning restore SM1001

    public static void Step()
    {
        for (int i = 0; i < 20; i++)
        {
            s_history.Add(new Order(s_history.Count, DateTime.UtcNow));
        }
    }
}

/// <summary>What the static list keeps.</summary>
internal sealed record Order(int Id, DateTime PlacedAt);
