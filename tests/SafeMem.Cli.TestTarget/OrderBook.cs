namespace SafeMem.Cli.TestTarget;

/// <summary>The classic leak: every step adds 20 orders (200 a second) to a static list that nothing ever empties.</summary>
internal static class OrderBook
{
    private static readonly List<Order> s_history = [];

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
