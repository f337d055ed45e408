using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;
using SafeMem.Analyzers.Tests.Infrastructure;

namespace SafeMem.Analyzers.Tests;

/// <summary>Every code fix applied and the result compiled (the testing framework compiles the fixed code and fails on any error).</summary>
public sealed class CodeFixTests
{
    private static DiagnosticResult Ownership(string id) => Verify<OwnershipAnalyzer>.Diagnostic(id);

    private static DiagnosticResult Events(string id) => Verify<EventSubscriptionAnalyzer>.Diagnostic(id);

    [Fact]
    public Task UsingDeclaration_DiscardedRegistration_BecomesUsingVar()
        => Verify<OwnershipAnalyzer>.VerifyFixAsync<UsingDeclarationCodeFix>(
            """
            using System;
            using System.Threading;
            public sealed class Session
            {
                public void Start(CancellationToken token)
                {
                    var registration2 = 1;
                    {|#0:token.Register(() => Console.WriteLine(this))|};
                    Console.WriteLine(registration2);
                }
            }
            """,
            [Ownership("SM1005")],
            """
            using System;
            using System.Threading;
            public sealed class Session
            {
                public void Start(CancellationToken token)
                {
                    var registration2 = 1;
                    using var registration = token.Register(() => Console.WriteLine(this));
                    Console.WriteLine(registration2);
                }
            }
            """);

    [Fact]
    public Task UsingDeclaration_DiscardAssignment_BecomesUsingVarWithAFreeName()
        => Verify<OwnershipAnalyzer>.VerifyFixAsync<UsingDeclarationCodeFix>(
            """
            using System;
            using System.Threading;
            public sealed class Session
            {
                public void Start(CancellationToken token, int registration)
                {
                    _ = {|#0:token.Register(() => Console.WriteLine(this))|};
                }
            }
            """,
            [Ownership("SM1005")],
            """
            using System;
            using System.Threading;
            public sealed class Session
            {
                public void Start(CancellationToken token, int registration)
                {
                    using var registration2 = token.Register(() => Console.WriteLine(this));
                }
            }
            """);

    [Fact]
    public Task UsingDeclaration_RegistrationInSwitchSection_OffersNoFix()
        => Verify<OwnershipAnalyzer>.VerifyNoFixAsync<UsingDeclarationCodeFix>(
            """
            using System;
            using System.Threading;
            public sealed class Session
            {
                public void Start(CancellationToken token, int mode)
                {
                    switch (mode)
                    {
                        case 1:
                            {|#0:token.Register(() => Console.WriteLine(this))|};
                            break;
                    }
                }
            }
            """,
            [Ownership("SM1005")]);

    [Fact]
    public Task UsingDeclaration_PeriodicTimerLocal_BecomesUsingVar()
        => Verify<OwnershipAnalyzer>.VerifyFixAsync<UsingDeclarationCodeFix>(
            """
            using System;
            using System.Threading;
            using System.Threading.Tasks;
            public sealed class Poller
            {
                public async Task RunAsync(CancellationToken token)
                {
                    // ticks once a second
                    var timer = {|#0:new PeriodicTimer(TimeSpan.FromSeconds(1))|};
                    while (await timer.WaitForNextTickAsync(token)) { }
                }
            }
            """,
            [Ownership("SM1006")],
            """
            using System;
            using System.Threading;
            using System.Threading.Tasks;
            public sealed class Poller
            {
                public async Task RunAsync(CancellationToken token)
                {
                    // ticks once a second
                    using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
                    while (await timer.WaitForNextTickAsync(token)) { }
                }
            }
            """);

    [Fact]
    public Task UsingDeclaration_ThreadingTimer_OffersNoFix()
        => Verify<OwnershipAnalyzer>.VerifyNoFixAsync<UsingDeclarationCodeFix>(
            """
            using System.Threading;
            public sealed class Poller
            {
                public void Start() { var timer = {|#0:new Timer(static _ => { }, null, 0, 1000)|}; }
            }
            """,
            [Ownership("SM1006")]);

    [Fact]
    public Task StaticBlock_CachePerCall_MovesToStaticReadonlyField()
        => Verify<OwnershipAnalyzer>.VerifyFixAsync<StaticBlockCodeFix>(
            Samples.Usings + """
            public sealed class Thumbnails
            {
                private readonly int _size = 1;

                public int Render(string path)
                {
                    var cache = {|#0:new BoundedCache<string, int>(new BoundedCacheOptions<string, int> { MaximumCount = 100 })|};
                    return cache.GetOrAdd(path, static p => p.Length) + _size;
                }
            }
            """,
            [Ownership("SM1004")],
            Samples.Usings + """
            public sealed class Thumbnails
            {
                private readonly int _size = 1;
                private static readonly BoundedCache<string, int> s_cache = new BoundedCache<string, int>(new BoundedCacheOptions<string, int> { MaximumCount = 100 });

                public int Render(string path)
                {
                    return s_cache.GetOrAdd(path, static p => p.Length) + _size;
                }
            }
            """);

    [Fact]
    public Task StaticBlock_CreationUsesAParameter_OffersNoFix()
        => Verify<OwnershipAnalyzer>.VerifyNoFixAsync<StaticBlockCodeFix>(
            Samples.Usings + """
            public sealed class Sessions
            {
                public void Track(string name, object session)
                {
                    var tracker = {|#0:new LeakTracker(name)|};
                    tracker.Track(session);
                }
            }
            """,
            [Ownership("SM1004")]);

    [Fact]
    public Task Subscription_MethodHandlerOnInjectedField_RemovedInDispose()
        => Verify<EventSubscriptionAnalyzer>.VerifyFixAsync<SubscriptionCodeFix>(
            """
            using System;
            public interface IPriceFeed { event EventHandler<EventArgs>? PriceChanged; }
            public sealed class PriceView : IDisposable
            {
                private readonly IPriceFeed _feed;
                private int _count;
                public PriceView(IPriceFeed feed) { _feed = feed; {|#0:_feed.PriceChanged += OnPrice|}; }
                private void OnPrice(object? sender, EventArgs e) => _count++;
                public void Dispose()
                {
                    _count = 0;
                }
            }
            """,
            [Events("SM1002").WithSeverity(DiagnosticSeverity.Info)],
            """
            using System;
            public interface IPriceFeed { event EventHandler<EventArgs>? PriceChanged; }
            public sealed class PriceView : IDisposable
            {
                private readonly IPriceFeed _feed;
                private int _count;
                public PriceView(IPriceFeed feed) { _feed = feed; _feed.PriceChanged += OnPrice; }
                private void OnPrice(object? sender, EventArgs e) => _count++;
                public void Dispose()
                {
                    _count = 0;
                    _feed.PriceChanged -= OnPrice;
                }
            }
            """);

    [Fact]
    public Task Subscription_MethodHandlerOnParameter_SubscribesWeakly()
        => Verify<EventSubscriptionAnalyzer>.VerifyFixAsync<SubscriptionCodeFix>(
            """
            using System;
            using System.ComponentModel;
            public sealed class SettingsView
            {
                private int _count;
                public SettingsView(INotifyPropertyChanged settings) { {|#0:settings.PropertyChanged += OnChanged|}; }
                private void OnChanged(object? sender, PropertyChangedEventArgs e) => _count++;
            }
            """,
            [Events("SM1002").WithSeverity(DiagnosticSeverity.Info)],
            """
            using System;
            using System.ComponentModel;
            using SafeMem.Events;

            public sealed class SettingsView
            {
                private int _count;
                public SettingsView(INotifyPropertyChanged settings) { WeakEventSubscription.Subscribe<INotifyPropertyChanged, SettingsView, PropertyChangedEventArgs>(settings, this, static (s, h) => s.PropertyChanged += h.Invoke, static (s, h) => s.PropertyChanged -= h.Invoke, static (self, sender, e) => self.OnChanged(sender!, e)); }
                private void OnChanged(object? sender, PropertyChangedEventArgs e) => _count++;
            }
            """);

    [Fact]
    public Task Subscription_StaticEvent_SubscribesWeakly()
        => Verify<EventSubscriptionAnalyzer>.VerifyFixAsync<SubscriptionCodeFix>(
            """
            using System;
            public static class Settings { public static event EventHandler<EventArgs>? Changed; }
            public sealed class SettingsView
            {
                private int _count;
                public void Start() { {|#0:Settings.Changed += OnChanged|}; }
                private void OnChanged(object? sender, EventArgs e) => _count++;
            }
            """,
            [Events("SM1002")],
            """
            using System;
            using SafeMem.Events;

            public static class Settings { public static event EventHandler<EventArgs>? Changed; }
            public sealed class SettingsView
            {
                private int _count;
                public void Start() { WeakEventSubscription.Subscribe<SettingsView, EventArgs>(this, static h => Settings.Changed += h, static h => Settings.Changed -= h, static (self, sender, e) => self.OnChanged(sender!, e)); }
                private void OnChanged(object? sender, EventArgs e) => _count++;
            }
            """);

    [Fact]
    public Task Subscription_WithoutSafeMemOrDispose_OffersNoFix()
        => Verify<EventSubscriptionAnalyzer>.VerifyNoFixAsync<SubscriptionCodeFix>(
            """
            using System;
            using System.ComponentModel;
            public sealed class SettingsView
            {
                private int _count;
                public SettingsView(INotifyPropertyChanged settings) { {|#0:settings.PropertyChanged += OnChanged|}; }
                private void OnChanged(object? sender, PropertyChangedEventArgs e) => _count++;
            }
            """,
            [Events("SM1002").WithSeverity(DiagnosticSeverity.Info)],
            withSafeMem: false);

    [Fact]
    public Task KeepDelegate_MatchingLambda_IsKeptInAFieldAndRemoved()
        => Verify<EventSubscriptionAnalyzer>.VerifyFixAsync<KeepDelegateCodeFix>(
            """
            using System;
            public sealed class Feed { public event EventHandler<EventArgs>? Changed; }
            public sealed class View
            {
                private readonly Feed _feed = new();
                private int _count;
                public void Open() { _feed.Changed += (s, e) => _count++; }
                public void Close() { _feed.Changed -= {|#0:(s, e) => _count++|}; }
            }
            """,
            [Events("SM1003")],
            """
            using System;
            public sealed class Feed { public event EventHandler<EventArgs>? Changed; }
            public sealed class View
            {
                private readonly Feed _feed = new();
                private int _count;
                private EventHandler<EventArgs>? _changedHandler;

                public void Open() { _feed.Changed += _changedHandler = (s, e) => _count++; }
                public void Close() { _feed.Changed -= _changedHandler; }
            }
            """);

    [Fact]
    public Task KeepDelegate_NoMatchingSubscription_OffersNoFix()
        => Verify<EventSubscriptionAnalyzer>.VerifyNoFixAsync<KeepDelegateCodeFix>(
            """
            using System;
            public sealed class Feed { public event EventHandler<EventArgs>? Changed; }
            public sealed class View
            {
                private readonly Feed _feed = new();
                private int _count;
                public void Close() { _feed.Changed -= {|#0:(s, e) => _count--|}; }
            }
            """,
            [Events("SM1003")]);

    [Fact]
    public Task BoundedCache_DictionaryUsedAsCache_BecomesBoundedCache()
        => Verify<StaticCollectionAnalyzer>.VerifyFixAsync<BoundedCacheCodeFix>(
            """
            using System.Collections.Concurrent;
            public static class Names
            {
                private static readonly ConcurrentDictionary<int, string> {|#0:s_names|} = new();
                public static string Name(int id) => s_names.GetOrAdd(id, static i => i.ToString());
                public static bool Known(int id) => s_names.TryGetValue(id, out _);
                public static void Put(int id, string name) => s_names[id] = name;
                public static int Count => s_names.Count;
            }
            """,
            [Verify<StaticCollectionAnalyzer>.Diagnostic("SM1001")],
            """
            using System.Collections.Concurrent;
            using SafeMem.Caching;

            public static class Names
            {
                private static readonly BoundedCache<int, string> s_names = new(new BoundedCacheOptions<int, string> { Name = "names", MaximumCount = 1000 /* the most entries this cache keeps: choose */ });
                public static string Name(int id) => s_names.GetOrAdd(id, static i => i.ToString());
                public static bool Known(int id) => s_names.TryGet(id, out _);
                public static void Put(int id, string name) => s_names.Set(id, name);
                public static int Count => s_names.Count;
            }
            """);

    [Fact]
    public Task BoundedCache_UseWithoutEquivalent_OffersNoFix()
        => Verify<StaticCollectionAnalyzer>.VerifyNoFixAsync<BoundedCacheCodeFix>(
            """
            using System.Collections.Generic;
            public static class Names
            {
                private static readonly Dictionary<int, string> {|#0:s_names|} = new();
                public static string Name(int id) { if (!s_names.TryGetValue(id, out var n)) { n = id.ToString(); s_names[id] = n; } return n; }
                public static IEnumerable<int> Keys => s_names.Keys;
            }
            """,
            [Verify<StaticCollectionAnalyzer>.Diagnostic("SM1001")]);
}
