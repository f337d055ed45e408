using Microsoft.CodeAnalysis;
using SafeMem.Analyzers.Tests.Infrastructure;
using static SafeMem.Analyzers.Tests.Infrastructure.Verify<SafeMem.Analyzers.EventSubscriptionAnalyzer>;

namespace SafeMem.Analyzers.Tests;

public sealed class EventSubscriptionAnalyzerTests
{
    private const string Types = """
        using System;
        using System.ComponentModel;
        public interface IPriceFeed { event EventHandler<EventArgs>? PriceChanged; }
        public sealed class PriceFeed : IPriceFeed { public event EventHandler<EventArgs>? PriceChanged; }
        public static class Settings { public static event EventHandler? Changed; }
        public static class Hub { public static PriceFeed Feed { get; } = new(); }

        """;

    private static string Sample(string members) => Types + $$"""
        public sealed partial class ViewModel : IDisposable
        {
            private readonly IPriceFeed _feed;
            private readonly PriceFeed _own = new();
            private EventHandler<EventArgs>? _handler;
            private int _count;
            public ViewModel(IPriceFeed feed) { _feed = feed; }
            private void OnPrice(object? sender, EventArgs e) => _count++;
            private void OnSettings(object? sender, EventArgs e) => _count++;
            private static void OnStatic(object? sender, EventArgs e) { }
            {{members}}
            public void Dispose() { }
        }
        """;

    // An instance the class was given: whether it outlives the subscriber is decided where both are created, so the
    // report is a suggestion (Info).
    [Theory]
    [InlineData("public void Start() { {|#0:_feed.PriceChanged += OnPrice|}; }")]
    [InlineData("public void Start() { {|#0:_feed.PriceChanged += (s, e) => _count++|}; }")]
    [InlineData("public void Start() { {|#0:_feed.PriceChanged += delegate { OnPrice(null, EventArgs.Empty); }|}; }")]
    [InlineData("public void Watch(IPriceFeed other) { {|#0:other.PriceChanged += OnPrice|}; }")]
    [InlineData("public void Start() { var feed = _feed; {|#0:feed.PriceChanged += OnPrice|}; }")]
    [InlineData("public void Start() { {|#0:_feed.PriceChanged += _handler = OnPrice|}; }")]
    [InlineData("public void Start() { if (_count > 0) { for (var i = 0; i < 2; i++) { {|#0:_feed.PriceChanged += new EventHandler<EventArgs>(OnPrice)|}; } } }")]
    [InlineData("public void Start() { {|#0:_feed.PriceChanged += OnPrice|}; _feed.PriceChanged -= OnSettings; }")]
    public Task SM1002_HandlerBoundToThisOnGivenSource_IsASuggestion(string members)
        => VerifyAsync(Sample(members), Diagnostic("SM1002").WithSeverity(DiagnosticSeverity.Info));

    // A static event, or an instance reached through a static member: it lives as long as the process, so the report is
    // a warning.
    [Theory]
    [InlineData("public void Start() { {|#0:Settings.Changed += OnSettings|}; }")]
    [InlineData("public void Start() { {|#0:Settings.Changed += (s, e) => _count++|}; }")]
    [InlineData("public void Start() { {|#0:Hub.Feed.PriceChanged += OnPrice|}; }")]
    [InlineData("public void Start() { var feed = Hub.Feed; {|#0:feed.PriceChanged += OnPrice|}; }")]
    [InlineData("public void Start() { {|#0:AppDomain.CurrentDomain.ProcessExit += OnSettings|}; }")]
    [InlineData("public void Start() { {|#0:Settings.Changed += OnSettings|}; _feed.PriceChanged += OnPrice; } public void Stop() { _feed.PriceChanged -= OnPrice; }")]
    public Task SM1002_HandlerBoundToThisOnStaticSource_IsAWarning(string members)
        => VerifyAsync(Sample(members), Diagnostic("SM1002").WithSeverity(DiagnosticSeverity.Warning));

    [Fact]
    public Task SM1002_EditorConfigRaisesGivenSources_ToWarnings()
        => VerifyWithConfigAsync(
            Sample("public void Start() { {|#0:_feed.PriceChanged += OnPrice|}; }"),
            "is_global = true\ndotnet_diagnostic.SM1002.severity = warning\n",
            Diagnostic("SM1002").WithSeverity(DiagnosticSeverity.Warning));

    [Fact]
    public Task SM1002_GenericClass_IsFlagged()
        => VerifyAsync(Types + """
            public sealed class Listener<T>
            {
                private readonly IPriceFeed _feed;
                public T? Last { get; private set; }
                public Listener(IPriceFeed feed) { _feed = feed; {|#0:_feed.PriceChanged += OnPrice|}; }
                private void OnPrice(object? sender, EventArgs e) => Last = default;
            }
            """, Diagnostic("SM1002").WithSeverity(DiagnosticSeverity.Info));

    [Theory]
    [InlineData("public void Start() { _feed.PriceChanged += OnPrice; } public void Stop() { _feed.PriceChanged -= OnPrice; }")]
    [InlineData("public void Start() { _feed.PriceChanged += OnPrice; } public void Stop() { _feed.PriceChanged -= new EventHandler<EventArgs>(OnPrice); }")]
    [InlineData("public void Start(IPriceFeed feed) { feed.PriceChanged += OnPrice; } public void Stop() { _feed.PriceChanged -= OnPrice; }")]
    [InlineData("public void Start() { _handler = (s, e) => _count++; _feed.PriceChanged += _handler; } public void Stop() { _feed.PriceChanged -= _handler; }")]
    [InlineData("public void Start() { _own.PriceChanged += OnPrice; }")]
    [InlineData("public void Start() { var feed = new PriceFeed(); feed.PriceChanged += OnPrice; }")]
    [InlineData("public void Start() { _feed.PriceChanged += OnStatic; }")]
    [InlineData("public void Start() { _feed.PriceChanged += static (s, e) => Console.WriteLine(e); }")]
    [InlineData("public void Start() { var name = \"x\"; _feed.PriceChanged += (s, e) => Console.WriteLine(name); }")]
    [InlineData("public event EventHandler? Changed; public void Start() { Changed += OnSettings; this.Changed += OnSettings; }")]
    [InlineData("public static void Wire(IPriceFeed feed, ViewModel model) { feed.PriceChanged += model.OnPrice; }")]
    [InlineData("public void Start() { Settings.Changed += OnSettings; } public void Stop() { Settings.Changed -= OnSettings; }")]
    public Task SM1002_OwnedSourceOrMatchingRemovalOrUnboundHandler_IsNotFlagged(string members)
        => VerifyAsync(Sample(members));

    [Fact]
    public Task SM1002_RemovalInAnotherPartialDeclaration_IsNotFlagged()
        => VerifyAsync(
            [Sample("public void Start() { _feed.PriceChanged += OnPrice; }"),
             "public sealed partial class ViewModel { public void Stop() { _feed.PriceChanged -= OnPrice; } }"],
            withSafeMem: true,
            OutputKind.DynamicallyLinkedLibrary);

    [Fact]
    public Task SM1002_TopLevelStatements_IsNotFlagged()
        => VerifyAsync(
            ["""
            using System;
            var feed = new PriceFeed();
            Settings.Changed += (s, e) => Console.WriteLine(feed);
            """ + Types.Replace("using System;", string.Empty, StringComparison.Ordinal).Replace("using System.ComponentModel;", string.Empty, StringComparison.Ordinal)],
            withSafeMem: false,
            OutputKind.ConsoleApplication);

    [Fact]
    public Task SM1002_GeneratedCode_IsNotFlagged()
        => VerifyAsync(
            [Samples.Generated(Sample("public void Start() { _feed.PriceChanged += OnPrice; }"))],
            withSafeMem: true,
            OutputKind.DynamicallyLinkedLibrary);

    [Fact]
    public Task SM1002_EventBackedByWeakEventSource_IsNotFlagged()
        => VerifyAsync(Samples.Usings + """
            public sealed class Market
            {
                private readonly WeakEventSource<EventArgs> _changed = new("market");
                public event EventHandler<EventArgs> Changed { add => _changed.Add(value); remove => _changed.Remove(value); }
            }
            public sealed class Ticker
            {
                private int _count;
                public Ticker(Market market) { market.Changed += OnChanged; }
                private void OnChanged(object? sender, EventArgs e) => _count++;
            }
            """);

    [Fact]
    public Task SM1002_CreatedChildOfCreatedField_IsNotFlagged()
        => VerifyAsync(Types + """
            public sealed class Holder { public PriceFeed Feed { get; } = new(); }
            public sealed class Window
            {
                private readonly Holder _holder = new();
                private int _count;
                public Window() { _holder.Feed.PriceChanged += (s, e) => _count++; }
            }
            """);

    private const string SessionTypes = """
        using System;
        using System.Threading.Tasks;
        public interface ISession : IDisposable
        {
            event EventHandler? Shutdown;
            Action<int>? CommandReceived { get; set; }
            object? Owner { get; set; }
            void Close();
            Task CloseAsync();
        }

        """;

    // A class given a source it may own (it disposes it) or that is dedicated to it (it already holds the class).
    private static string ChannelSample(string constructor, string members = "", string dispose = "") => SessionTypes + $$"""
        public sealed class Channel : IDisposable
        {
            private ISession? _session;
            private ISession? _other;
            private int _count;
            public Channel(ISession session, ISession other) { {{constructor}} }
            private void OnShutdown(object? sender, EventArgs e) => _count++;
            private void OnCommand(int command) => _count += command;
            {{members}}
            public void Dispose() { {{dispose}} }
        }
        """;

    [Theory]
    // The classic leak, in the same shape: a given source, kept in a field, never let go of.
    [InlineData("_session = session; {|#0:_session.Shutdown += OnShutdown|};", "", "")]
    // The source held the instance once, but the class lets go of that (Owner = null) and not of the handler.
    [InlineData("_session = session; _session.Owner = this; {|#0:_session.Shutdown += OnShutdown|};", "", "_session.Owner = null;")]
    // Another object holds the instance, not the source.
    [InlineData("_session = session; other.Owner = this; {|#0:session.Shutdown += OnShutdown|};", "", "")]
    // What the source holds is not bound to the instance.
    [InlineData("session.CommandReceived = static c => { }; {|#0:session.Shutdown += OnShutdown|};", "", "")]
    // Another object is disposed, not the source.
    [InlineData("_session = session; _other = other; {|#0:session.Shutdown += OnShutdown|};", "", "_other.Dispose();")]
    // A parameter of the same name in another method is another object.
    [InlineData("{|#0:session.Shutdown += OnShutdown|};", "public static void Drop(ISession session) => session.Dispose();", "")]
    // Disposing something the source holds is not disposing the source.
    [InlineData("_session = session; {|#0:_session.Shutdown += OnShutdown|};", "", "(_session.Owner as IDisposable)?.Dispose();")]
    public Task SM1002_GivenSourceNeitherOwnedNorHoldingTheInstance_IsFlagged(string constructor, string members, string dispose)
        => VerifyAsync(ChannelSample(constructor, members, dispose), Diagnostic("SM1002").WithSeverity(DiagnosticSeverity.Info));

    [Theory]
    // The source already holds the instance through a member the class assigns and never clears (RabbitMQ's channel
    // and its session).
    [InlineData("session.CommandReceived = OnCommand; session.Shutdown += OnShutdown;", "", "")]
    [InlineData("session.CommandReceived = c => _count += c; session.Shutdown += OnShutdown;", "", "")]
    [InlineData("_session = session; _session.Owner = this; _session.Shutdown += OnShutdown;", "", "")]
    [InlineData("_session = session; session.Owner = this; _session.Shutdown += OnShutdown;", "", "")]
    // The class disposes or closes the source: it owns it.
    [InlineData("_session = session; _session.Shutdown += OnShutdown;", "", "_session.Dispose();")]
    [InlineData("_session = session ?? throw new ArgumentNullException(nameof(session)); session.Shutdown += OnShutdown;", "", "_session?.Close();")]
    [InlineData("_session = session; session.Shutdown += OnShutdown;", "public async Task StopAsync() => await _session!.CloseAsync();", "")]
    [InlineData("_session = session;", "public void Start() { var s = _session!; s.Shutdown += OnShutdown; }", "_session?.Dispose();")]
    [InlineData("", "public void Run(ISession s) { s.Shutdown += OnShutdown; s.Dispose(); }", "")]
    public Task SM1002_GivenSourceOwnedOrHoldingTheInstance_IsNotFlagged(string constructor, string members, string dispose)
        => VerifyAsync(ChannelSample(constructor, members, dispose));

    [Theory]
    [InlineData("public void Stop() { _feed.PriceChanged -= {|#0:(s, e) => _count++|}; }")]
    [InlineData("public void Stop() { _feed.PriceChanged -= {|#0:delegate { _count++; }|}; }")]
    [InlineData("public void Stop() { _feed.PriceChanged -= new EventHandler<EventArgs>({|#0:(s, e) => _count++|}); }")]
    [InlineData("public void Stop() { Settings.Changed -= {|#0:static (s, e) => { }|}; }")]
    public Task SM1003_RemovingNewLambda_IsFlagged(string members)
        => VerifyAsync(Sample(members), Diagnostic("SM1003"));

    [Theory]
    [InlineData("public void Stop() { _feed.PriceChanged -= OnPrice; }")]
    [InlineData("public void Stop() { _feed.PriceChanged -= new EventHandler<EventArgs>(OnPrice); }")]
    [InlineData("public void Stop() { _feed.PriceChanged -= _handler; }")]
    [InlineData("public void Stop() { EventHandler<EventArgs> local = OnPrice; _feed.PriceChanged -= local; }")]
    [InlineData("public void Stop(ViewModel other) { _feed.PriceChanged -= other.OnPrice; }")]
    public Task SM1003_RemovingSameDelegate_IsNotFlagged(string members)
        => VerifyAsync(Sample(members));
}
