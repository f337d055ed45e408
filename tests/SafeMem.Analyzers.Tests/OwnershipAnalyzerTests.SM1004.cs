using Microsoft.CodeAnalysis;
using SafeMem.Analyzers.Tests.Infrastructure;
using static SafeMem.Analyzers.Tests.Infrastructure.Verify<SafeMem.Analyzers.OwnershipAnalyzer>;

namespace SafeMem.Analyzers.Tests;

public sealed partial class OwnershipAnalyzerTests
{
    [Theory]
    [InlineData("var cache = {|#0:new BoundedCache<string, int>(new BoundedCacheOptions<string, int> { MaximumCount = 10 })|}; cache.GetOrAdd(\"a\", static _ => 1);")]
    [InlineData("var tracker = {|#0:new LeakTracker(\"sessions\")|}; tracker.Track(this);")]
    [InlineData("_ = {|#0:new WeakEventSource<EventArgs>()|};")]
    [InlineData("for (var i = 0; i < 3; i++) { var registry = {|#0:new WeakValueRegistry<int, Item>(\"items\")|}; registry.GetOrAdd(i, static _ => new Item()); }")]
    [InlineData("if (condition) { var attachment = {|#0:new Attachment<Item, string>()|}; attachment.GetOrAdd(new Item(), static _ => \"\"); }")]
    [InlineData("var pool2 = {|#0:new TrackedObjectPool<List<int>>(new DefaultPooledObjectPolicy<List<int>>())|}; var list = pool2.Get(); pool2.Return(list);")]
    [InlineData("WeakKeyedRegistry<Item, string> registry; registry = {|#0:new(\"r\")|}; Use(registry.Count);")]
    [InlineData("var source = {|#0:new AsyncWeakEventSource<EventArgs>()|}; var copy = source; Use(copy.ToString());")]
    public Task SM1004_BlockDroppedAtEndOfCall_IsFlagged(string body)
        => VerifyAsync(Samples.InMethod(body), Diagnostic("SM1004"));

    [Fact]
    public Task SM1004_GenericMethod_IsFlagged()
        => VerifyAsync(Samples.Usings + """
            public static class Helper
            {
                public static int Count<T>(T item) where T : class
                {
                    var registry = {|#0:new WeakRegistry<T>()|};
                    registry.Add(item);
                    return registry.Count;
                }
            }
            """, Diagnostic("SM1004"));

    [Fact]
    public Task SM1004_LeakWatcherByMetadataName_IsFlaggedOnceTheTypeExists()
        => VerifyAsync(
            ["""
            namespace SafeMem.Diagnostics { public sealed class LeakWatcher { public void Start() { } } }
            public sealed class Subject
            {
                public void Run() { var watcher = {|#0:new SafeMem.Diagnostics.LeakWatcher()|}; watcher.Start(); }
            }
            """],
            withSafeMem: false,
            OutputKind.DynamicallyLinkedLibrary,
            Diagnostic("SM1004"));

    [Theory]
    [InlineData("var cache = new BoundedCache<string, int>(new BoundedCacheOptions<string, int> { MaximumCount = 10 }); return cache;")]
    [InlineData("var tracker = new LeakTracker(\"t\"); _field = tracker;")]
    [InlineData("var tracker = new LeakTracker(\"t\"); Property = tracker;")]
    [InlineData("var source = new WeakEventSource<EventArgs>(); Use(source);")]
    [InlineData("var source = new WeakEventSource<EventArgs>(); var holder = new Holder { Value = source }; Use(holder);")]
    [InlineData("var source = new WeakEventSource<EventArgs>(); var all = new List<object> { source }; Use(all);")]
    [InlineData("var registry = new WeakRegistry<Item>(); output = registry;")]
    [InlineData("var registry = new WeakRegistry<Item>(); Interlocked.CompareExchange(ref _field, registry, null);")]
    [InlineData("using var cache = new BoundedCache<string, int>(new BoundedCacheOptions<string, int> { MaximumCount = 10 }); cache.Set(\"a\", 1);")]
    [InlineData("using (var cache = new BoundedCache<string, int>(new BoundedCacheOptions<string, int> { MaximumCount = 10 })) { cache.Set(\"a\", 1); }")]
    [InlineData("var cache = new BoundedCache<string, int>(new BoundedCacheOptions<string, int> { MaximumCount = 10 }); cache.Set(\"a\", 1); cache.Dispose();")]
    [InlineData("var registry = new WeakRegistry<Item>(); Action report = () => Use(registry.Count); Use(report);")]
    [InlineData("var registry = new WeakRegistry<Item>(); var copy = registry; _field = copy;")]
    [InlineData("var registry = new WeakRegistry<Item>(); items[0] = registry;")]
    [InlineData("Use(new WeakRegistry<Item>());")]
    [InlineData("var pair = (new WeakRegistry<Item>(), 1); Use(pair);")]
    public Task SM1004_BlockHandedOnOrDisposed_IsNotFlagged(string body)
        => VerifyAsync(Samples.InMethod(body));

    [Fact]
    public Task SM1004_YieldReturn_IsNotFlagged()
        => VerifyAsync(Samples.Usings + """
            public static class Factory
            {
                public static IEnumerable<WeakRegistry<string>> Create()
                {
                    var registry = new WeakRegistry<string>();
                    yield return registry;
                }
            }
            """);

    [Fact]
    public Task SM1004_StaticFieldAndConstructorAndMain_AreNotFlagged()
        => VerifyAsync(
            [Samples.Usings + """
            var cache = new BoundedCache<string, int>(new BoundedCacheOptions<string, int> { MaximumCount = 10 });
            cache.GetOrAdd("a", static _ => 1);
            public static class Holder
            {
                private static readonly LeakTracker s_tracker = new("t");
                private static readonly WeakRegistry<string> s_registry;
                static Holder() { var registry = new WeakRegistry<string>(); s_registry = registry; }
            }
            """],
            withSafeMem: true,
            OutputKind.ConsoleApplication);

    [Fact]
    public Task SM1004_TestMethodRunsOnce_IsNotFlagged()
        => VerifyAsync(Samples.Usings + """
            [AttributeUsage(AttributeTargets.Method)] public sealed class FactAttribute : Attribute { }
            public sealed class CacheTests
            {
                [Fact]
                public void GetOrAdd_Miss_RunsFactory()
                {
                    var cache = new BoundedCache<string, int>(new BoundedCacheOptions<string, int> { MaximumCount = 10 });
                    cache.GetOrAdd("a", static _ => 1);
                }
            }
            """);

    [Fact]
    public Task SM1004_GeneratedCode_IsNotFlagged()
        => VerifyAsync(
            [Samples.Generated(Samples.InMethod("var tracker = new LeakTracker(\"t\"); tracker.Track(this);"))],
            withSafeMem: true,
            OutputKind.DynamicallyLinkedLibrary);

    [Fact]
    public Task SM1004_ProjectWithoutSafeMem_LookalikeTypeIsNotFlagged()
        => VerifyAsync(
            ["""
            namespace Mine { public sealed class BoundedCache<TKey, TValue> { } }
            public sealed class Subject { public void Run() { var cache = new Mine.BoundedCache<string, int>(); } }
            """],
            withSafeMem: false,
            OutputKind.DynamicallyLinkedLibrary);
}
