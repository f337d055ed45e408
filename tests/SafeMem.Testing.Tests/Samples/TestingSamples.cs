using SafeMem.Diagnostics.Heap;
using Xunit.Abstractions;

namespace SafeMem.Testing.Tests.Samples;

// The code docs/testing.md shows, compiled and run as tests. DocsTests checks that every line of the guide's C#
// blocks appears in this file, so the guide cannot drift from code that builds and passes.
public sealed class TestingSamples(ITestOutputHelper output)
{
    private readonly Importer _importer = new();

    [Fact]
    public void ClosedWindow_IsCollected()
    {
        var bus = new MessageBus();

        LeakAssert.Collected(() =>
        {
            var window = new Window(bus);   // subscribes to bus.MessageReceived
            window.Close();                 // must unsubscribe, or the bus keeps the window alive
            return window;
        });
    }

    [Fact]
    public void Import_LeavesNoOrderBehind()
    {
        _importer.Run();                    // warm-up: caches filled on first use by design are not leaks

        LeakAssert.Collected<Order>(() => _importer.Run());
    }

    [Fact]
    public void Import_HeapGrowth()
    {
        using HeapSnapshot before = HeapSnapshot.Take();
        _importer.Run();
        using HeapSnapshot after = HeapSnapshot.Take();

        HeapSnapshotDiff diff = HeapSnapshot.Diff(before, after);
        output.WriteLine(diff.ToString(maxRows: 10));
        Assert.Null(diff.Find(typeof(Order)));

        foreach (RetentionPath path in after.FindRetentionPaths(o => o.Is<Order>(), maxPaths: 3))
        {
            output.WriteLine(path.ToString());
        }
    }

    [Fact]
    public void Parse_RetainsNothing()
    {
        var parser = new Parser();

        MemoryMeasurement cost = MemoryProbe.Measure(() => parser.Parse("a,b,c"));

        output.WriteLine(cost.ToString());
        Assert.True(cost.AllocatedBytes > 0);
    }

    public sealed class MessageBus
    {
        public event EventHandler? MessageReceived;

        public void Publish() => MessageReceived?.Invoke(this, EventArgs.Empty);
    }

    public sealed class Window
    {
        private readonly MessageBus _bus;

        public Window(MessageBus bus)
        {
            _bus = bus;
            _bus.MessageReceived += OnMessage;
        }

        public int Messages { get; private set; }

        public void Close() => _bus.MessageReceived -= OnMessage;

        private void OnMessage(object? sender, EventArgs e) => Messages++;
    }

    public sealed class Order(int id)
    {
        public int Id { get; } = id;
    }

    public sealed class Importer
    {
        private readonly Dictionary<string, int> _lookup = [];

        public int Run()
        {
            // Orders live only while the import runs; the lookup table is filled once, on first use.
            var orders = Enumerable.Range(0, 100).Select(i => new Order(i)).ToList();
            _lookup.TryAdd("count", orders.Count);
            return orders.Sum(o => o.Id);
        }
    }

    public sealed class Parser
    {
        public string[] Parse(string text) => text.Split(',');
    }
}

/// <summary>The NoGrowth snippet of docs/testing.md, run alone (NoGrowth counts every type process-wide).</summary>
[Collection(nameof(NoGrowthTests))]
public sealed class NoGrowthSamples
{
    [Fact]
    public void HandleMessage_DoesNotGrowTheHeap()
    {
        var dispatcher = new Dispatcher();

        LeakAssert.NoGrowth(() => dispatcher.Handle("order-42"));
    }

    [Fact]
    public void HandleMessage_WithMoreRuns()
    {
        var dispatcher = new Dispatcher();

        LeakAssert.NoGrowth(() => dispatcher.Handle("order-42"), new NoGrowthOptions { Iterations = 200, WarmupIterations = 100 });
    }

    public sealed class Dispatcher
    {
        private readonly Dictionary<string, int> _handled = [];

        // Counts messages per key: one entry per distinct key, filled on first use, so not growth.
        public void Handle(string key) => _handled[key] = _handled.GetValueOrDefault(key) + 1;
    }
}
