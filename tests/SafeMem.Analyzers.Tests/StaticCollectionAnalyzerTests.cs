using Microsoft.CodeAnalysis;
using SafeMem.Analyzers.Tests.Infrastructure;
using static SafeMem.Analyzers.Tests.Infrastructure.Verify<SafeMem.Analyzers.StaticCollectionAnalyzer>;

namespace SafeMem.Analyzers.Tests;

public sealed class StaticCollectionAnalyzerTests
{
    private static string Sample(string members) => """
        using System;
        using System.Collections;
        using System.Collections.Concurrent;
        using System.Collections.Generic;
        using System.Runtime.CompilerServices;
        using System.Threading;
        using SafeMem.Caching;
        public enum Color { Red, Green }
        public sealed class Session { }
        public static partial class Registry
        {
        """ + members + """

        }
        """;

    [Theory]
    [InlineData("private static readonly Dictionary<string, Session> {|#0:s_sessions|} = new(); public static void Open(string id) => s_sessions[id] = new Session();")]
    [InlineData("private static readonly ConcurrentDictionary<int, string> {|#0:s_names|} = new(); public static string Name(int id) => s_names.GetOrAdd(id, static i => i.ToString());")]
    [InlineData("private static readonly List<Session> {|#0:s_all|} = new(); public static void Track(Session s) { if (s is not null) { s_all.Add(s); } }")]
    [InlineData("private static readonly HashSet<string> {|#0:s_seen|} = new(); public static bool See(string key) => s_seen.Add(key);")]
    [InlineData("private static readonly ConcurrentBag<Session> {|#0:s_bag|} = new(); public static void Keep(Session s) => s_bag.Add(s);")]
    [InlineData("private static readonly Queue<string> {|#0:s_log|} = new(); public static void Log(string m) { for (var i = 0; i < 2; i++) { s_log.Enqueue(m); } }")]
    [InlineData("private static readonly Hashtable {|#0:s_table|} = new(); public static void Put(object k, object v) => s_table[k] = v;")]
    [InlineData("private static readonly Dictionary<int, Session> {|#0:s_byId|} = new(); public static Session Get(int id) { if (!s_byId.TryGetValue(id, out var s)) { s = new Session(); s_byId.Add(id, s); } return s; }")]
    [InlineData("private static readonly Dictionary<int, string> {|#0:s_a|} = new(); private static readonly Dictionary<int, string> s_b = new(); public static void Put(int k) { s_a[k] = \"\"; s_b[k] = \"\"; s_b.Remove(k); }")]
    [InlineData("private static readonly List<Session> {|#0:s_list|} = new(); public Registry2() { } public static void Add(Session s) => s_list.Add(s); public static int Count => s_list.Count;")]
    [InlineData("private static readonly List<string> {|#0:s_lines|} = new(); public static void Mark() => s_lines.Add(\"tick\");")]
    [InlineData("private static readonly ConcurrentDictionary<string, int> {|#0:s_kinds|} = new(); public static int Next(string user) => Count(\"cache\") + Count(user); private static int Count(string kind) => s_kinds.GetOrAdd(kind, 0);")]
    [InlineData("private static readonly ConcurrentDictionary<string, int> {|#0:s_kinds|} = new(); public static Func<string, int> Counter => Count; private static int Count(string kind) => s_kinds.GetOrAdd(kind, 0);")]
    public Task SM1001_StaticCollectionOnlyAddedTo_IsFlagged(string members)
        => VerifyAsync(Sample(members.Replace("public Registry2() { } ", string.Empty, StringComparison.Ordinal)), Diagnostic("SM1001"));

    [Fact]
    public Task SM1001_GenericClassAndInstanceConstructorAdd_IsFlagged()
        => VerifyAsync("""
            using System.Collections.Generic;
            public sealed class Node<T>
            {
                private static readonly List<Node<T>> {|#0:s_created|} = new();
                public Node() { s_created.Add(this); }
            }
            """, Diagnostic("SM1001"));

    [Theory]
    [InlineData("private static readonly Dictionary<string, int> s_codes = new() { [\"a\"] = 1, [\"b\"] = 2 }; public static int Code(string k) => s_codes[k];")]
    [InlineData("private static readonly Dictionary<string, int> s_codes = new(); static Registry() { s_codes.Add(\"a\", 1); s_codes[\"b\"] = 2; } public static int Code(string k) => s_codes[k];")]
    [InlineData("private static readonly Dictionary<string, Session> s_open = new(); public static void Open(string id) => s_open[id] = new Session(); public static void Close(string id) => s_open.Remove(id);")]
    [InlineData("private static readonly ConcurrentDictionary<string, Session> s_open = new(); public static void Open(string id) => s_open.TryAdd(id, new Session()); public static void Close(string id) => s_open.TryRemove(id, out _);")]
    [InlineData("private static List<Session> s_batch = new(); public static void Add(Session s) => s_batch.Add(s); public static List<Session> Flush() => Interlocked.Exchange(ref s_batch, new List<Session>());")]
    [InlineData("private static List<Session> s_batch = new(); public static void Add(Session s) => s_batch.Add(s); public static void Reset() => s_batch = new List<Session>();")]
    [InlineData("private static readonly Queue<string> s_log = new(); public static void Log(string m) { s_log.Enqueue(m); if (s_log.Count > 100) { s_log.Dequeue(); } }")]
    [InlineData("private static readonly ConditionalWeakTable<object, Session> s_table = new(); public static void Attach(object o) => s_table.Add(o, new Session());")]
    [InlineData("private static readonly ConcurrentDictionary<Type, string> s_names = new(); public static string Name(Type t) => s_names.GetOrAdd(t, static t => t.Name);")]
    [InlineData("private static readonly ConcurrentDictionary<(Type Type, string Name), string> s_props = new(); public static string Prop(Type t, string n) => s_props.GetOrAdd((t, n), static k => k.Name);")]
    [InlineData("private static readonly ConcurrentDictionary<string, Type?> s_types = new(); public static Type? Find(string name) => s_types.GetOrAdd(name, static n => Type.GetType(n));")]
    [InlineData("private static readonly Dictionary<Color, string> s_labels = new(); public static void Label(Color c) => s_labels[c] = c.ToString();")]
    [InlineData("private static readonly BoundedCache<string, int> s_cache = new(new BoundedCacheOptions<string, int> { MaximumCount = 10 }); public static int Get(string k) => s_cache.GetOrAdd(k, static _ => 1);")]
    [InlineData("private static readonly List<Session> s_all = new(); public static void Add(Session s) => s_all.Add(s); public static void Drain() { var copy = s_all; copy.Clear(); }")]
    [InlineData("private static readonly List<Session> s_all = new(); public static void Add(Session s) => s_all.Add(s); public static void Prune() => s_all.RemoveAll(static s => s is null);")]
    [InlineData("private readonly List<Session> _all = new(); public void Add(Session s) => _all.Add(s);")]
    [InlineData("private static readonly ConcurrentDictionary<string, int> s_kinds = new(); public static int Next() => Count(\"cache\") + Count(\"pool\"); private static int Count(string kind) => s_kinds.GetOrAdd(kind, 0);")]
    [InlineData("private static readonly Dictionary<string, int> s_flags = new(); public static void Enable() => s_flags[\"verbose\"] = 1;")]
    public Task SM1001_InitializedOnlyOrShrunkOrBounded_IsNotFlagged(string members)
        => VerifyAsync(Sample(members.Replace("private readonly List<Session> _all = new(); public void Add(Session s) => _all.Add(s);", "private static readonly List<Session> s_unused = new();", StringComparison.Ordinal)));

    [Fact]
    public Task SM1001_RemovalFromAnotherClassThroughInternalField_IsNotFlagged()
        => VerifyAsync(
            [Sample("internal static readonly Dictionary<string, Session> Open = new(); public static void Add(string id) => Open[id] = new Session();"),
             "public static class Janitor { public static void Sweep(string id) => Registry.Open.Remove(id); }"],
            withSafeMem: true,
            OutputKind.DynamicallyLinkedLibrary);

    [Fact]
    public Task SM1001_RemovalInPartialDeclaration_IsNotFlagged()
        => VerifyAsync(
            [Sample("private static readonly Dictionary<string, Session> s_open = new(); public static void Add(string id) => s_open[id] = new Session();"),
             "public static partial class Registry { public static void Sweep() => s_open.Clear(); }"],
            withSafeMem: true,
            OutputKind.DynamicallyLinkedLibrary);

    [Fact]
    public Task SM1001_GeneratedCode_IsNotFlagged()
        => VerifyAsync(
            [Samples.Generated(Sample("private static readonly List<Session> s_all = new(); public static void Add(Session s) => s_all.Add(s);"))],
            withSafeMem: true,
            OutputKind.DynamicallyLinkedLibrary);

    [Fact]
    public Task SM1001_TopLevelStatementsAddingToStaticField_IsFlaggedOnlyForTheField()
        => VerifyAsync(
            ["""
            using System.Collections.Generic;
            Log.Add("started");
            var local = new List<string>();
            local.Add("x");
            public static class Log
            {
                private static readonly List<string> {|#0:s_lines|} = new();
                public static void Add(string line) => s_lines.Add(line);
            }
            """],
            withSafeMem: false,
            OutputKind.ConsoleApplication,
            Diagnostic("SM1001"));
}
