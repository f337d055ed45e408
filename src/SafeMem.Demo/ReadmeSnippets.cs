using System.Collections.Concurrent;
using System.ComponentModel;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using SafeMem.Attachments;
using SafeMem.Caching;
using SafeMem.Diagnostics;
using SafeMem.Disposal;
using SafeMem.Events;
using SafeMem.Registries;
using SafeMem.Testing;

namespace SafeMem.Demo;

// The code README.md shows, compiled. tests/SafeMem.Tests/ReadmeTests.cs checks that every line of README's C#
// blocks appears here, so the README cannot drift from code that builds. Not run by the demo.
internal static class ReadmeSnippets
{
    private static readonly Attachment<Control, ToolTipState> s_toolTips = new("tooltips");

    private static readonly WeakValueRegistry<int, Session> s_sessions = new("sessions");

    // A cache lives as long as the application (a static field, or a DI singleton), never one per call.
    private static readonly BoundedCache<string, byte[]> s_thumbnails = new(new BoundedCacheOptions<string, byte[]>
    {
        Name = "thumbnails",
        MaximumWeight = 64 * 1024 * 1024,
        Weigher = static (_, image) => image.Length,
    });

    public static byte[] Caching(string path)
    {
        byte[] thumbnail = s_thumbnails.GetOrAdd(path, static p => Render(p));
        return thumbnail;
    }

    public static void Attachments(Control control)
    {
        ToolTipState tip = s_toolTips.GetOrAdd(control, static c => new ToolTipState(c));
        GC.KeepAlive(tip);
    }

    public static void Registries(int id)
    {
        Session session = s_sessions.GetOrAdd(id, static id => new Session(id));
        GC.KeepAlive(session);
    }

    public static async Task Disposal(CancellationToken cancellationToken)
    {
        await using var scope = new DisposalScope("request");
        var stream = scope.Add(new MemoryStream());
        scope.Add(cancellationToken.Register(static () => Console.WriteLine("cancelled")));
        scope.Add(() => Console.WriteLine("request ended"));
        stream.WriteByte(1);
    }

    public static void Pooling(IServiceCollection services)
    {
        services.AddSafeMemObjectPools(options => options.SamplingRate = 0.01);
    }

    public static void Testing(MessageBus bus)
    {
        LeakAssert.Collected(() =>
        {
            var window = new Window(bus);   // subscribes to bus.MessageReceived
            window.Close();                 // must unsubscribe, or the bus keeps the window alive
            return window;
        });

        LeakAssert.NoGrowth(() => bus.Publish());   // 50 warm-up runs, then 50 and 100 runs between three snapshots
    }

    public static void Watcher(IServiceCollection services)
    {
        services.AddSafeMemLeakWatcher(options => options.WatchScopedServices = true);
    }

    public static async Task Explain(LeakWatcher watcher)
    {
        LeakAnalysis analysis = await watcher.AnalyzeAsync();
        Console.WriteLine(analysis);
    }

    public static void Extensions(IServiceCollection services)
    {
        services.AddSafeMemCache(options =>
        {
            options.Name = "app";
            options.MaximumWeight = 10_000;
        });
    }

    private static byte[] Render(string path) => new byte[path.Length];

    // README's analyzer example: the field SM1001 reports, and the same field after its code fix.
    internal static class AnalyzerBefore
    {
#pragma warning disable SM1001 // the warning README shows
        private static readonly ConcurrentDictionary<int, string> s_names = new();
#pragma warning restore SM1001
        public static string Name(int id) => s_names.GetOrAdd(id, static i => i.ToString(CultureInfo.InvariantCulture));
    }

    internal static class AnalyzerAfter
    {
        private static readonly BoundedCache<int, string> s_names =
            new(new BoundedCacheOptions<int, string> { Name = "names", MaximumCount = 1000 });
        public static string Name(int id) => s_names.GetOrAdd(id, static i => i.ToString(CultureInfo.InvariantCulture));
    }

    internal sealed class Control;

    internal sealed class ToolTipState(Control owner)
    {
        public Control Owner { get; } = owner;
    }

    internal sealed class Session(int id)
    {
        public int Id { get; } = id;
    }

    internal sealed class Connection : IDisposable
    {
        private static readonly LeakTracker s_leaks = new("connections", new LeakTrackerOptions { SamplingRate = 0.01, CaptureStackTrace = true });
        private readonly LeakHandle _leak;
        public Connection() => _leak = s_leaks.Track(this);
        public void Dispose() => _leak.Dispose();
    }

    internal sealed class MessageBus
    {
        public event EventHandler? MessageReceived;

        public void Publish() => MessageReceived?.Invoke(this, EventArgs.Empty);
    }

    internal sealed class Window
    {
        private readonly MessageBus _bus;

        public Window(MessageBus bus)
        {
            _bus = bus;
            bus.MessageReceived += OnMessage;
        }

        public void Close() => _bus.MessageReceived -= OnMessage;

        private void OnMessage(object? sender, EventArgs e)
        {
        }
    }

    internal sealed class PriceChangedEventArgs : EventArgs;

    internal sealed class PricePublisher
    {
        private readonly WeakEventSource<PriceChangedEventArgs> _priceChanged = new("prices");
        public event EventHandler<PriceChangedEventArgs> PriceChanged
        {
            add => _priceChanged.Add(value);
            remove => _priceChanged.Remove(value);
        }
        private void OnPriceChanged(PriceChangedEventArgs e) => _priceChanged.Raise(this, e);

        public void Publish() => OnPriceChanged(new PriceChangedEventArgs());
    }

    internal sealed class SettingsView
    {
        public SettingsView(INotifyPropertyChanged settings)
        {
            IDisposable subscription = WeakEventSubscription.SubscribePropertyChanged(
                settings, this, static (self, _, e) => self.OnSettingChanged(e.PropertyName));
            Subscription = subscription;
        }

        public IDisposable Subscription { get; }

        public string? LastChanged { get; private set; }

        private void OnSettingChanged(string? propertyName) => LastChanged = propertyName;
    }
}
