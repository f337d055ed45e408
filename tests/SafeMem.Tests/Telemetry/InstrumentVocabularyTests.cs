using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using System.Reflection;
using System.Text.RegularExpressions;
using SafeMem.Attachments;
using SafeMem.Caching;
using SafeMem.Diagnostics;
using SafeMem.Disposal;
using SafeMem.Events;
using SafeMem.Pooling;
using SafeMem.Registries;
using SafeMem.Telemetry;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Telemetry;

/// <summary>
/// One telemetry vocabulary for every block: each instrument any block publishes follows the naming rules of
/// docs/telemetry.md and has a row there with the same kind and unit, every documented instrument exists, and every tag
/// key is a <see cref="SafeMemTags"/> constant documented in the tags table.
/// </summary>
/// <remarks>
/// A raw <see cref="MeterListener"/> rather than a per-instrument collector: the test must discover every instrument a
/// meter publishes, including two instruments of one name with different units (cache weights).
/// </remarks>
public sealed partial class InstrumentVocabularyTests
{
    private const string WeightUnitCell = "the options' `WeightUnit`";

    // Singular annotations that end in 's' anyway (the plural check is by spelling).
    private static readonly string[] s_singularEndingInS = ["{analysis}"];

    [Fact]
    public void EveryInstrument_FollowsTheVocabularyAndIsDocumented()
    {
        IReadOnlyList<Published> published = PublishEveryBlock();
        Dictionary<string, DocumentedInstrument> documented = ReadInstrumentTable();
        HashSet<string> documentedTags = ReadTagTable();

        Assert.NotEmpty(published);
        var problems = new List<string>();
        foreach (Published p in published)
        {
            problems.AddRange(VocabularyProblems(p.Instrument).Select(problem => $"{p.Instrument.Name}: {problem}"));
            if (!documented.TryGetValue(p.Instrument.Name, out DocumentedInstrument? row))
            {
                problems.Add($"{p.Instrument.Name}: no row in docs/telemetry.md");
                continue;
            }

            if (row.Kind != KindOf(p.Instrument))
            {
                problems.Add($"{p.Instrument.Name}: documented as {row.Kind}, published as {KindOf(p.Instrument)}");
            }

            if (row.Unit != WeightUnitCell && row.Unit != $"`{p.Instrument.Unit}`")
            {
                problems.Add($"{p.Instrument.Name}: documented unit {row.Unit}, published {p.Instrument.Unit}");
            }

            if (p.TagKeys.Count > 0 && !p.TagKeys.Contains(SafeMemTags.Name))
            {
                problems.Add($"{p.Instrument.Name}: a measurement without {SafeMemTags.Name}");
            }

            foreach (string key in p.TagKeys)
            {
                if (!documentedTags.Contains(key) || !row.Tags.Contains($"`{key}`", StringComparison.Ordinal))
                {
                    problems.Add($"{p.Instrument.Name}: tag {key} is not documented (tags table and the instrument's row)");
                }
            }
        }

        HashSet<string> publishedNames = published.Select(p => p.Instrument.Name).ToHashSet(StringComparer.Ordinal);
        problems.AddRange(documented.Keys.Where(name => !publishedNames.Contains(name)).Select(name => $"{name}: documented but no block publishes it"));

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void EveryTagKey_IsASafeMemTagsConstantDocumentedInTheTagTable()
    {
        string[] constants = typeof(SafeMemTags)
            .GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral)
            .Select(f => (string)f.GetRawConstantValue()!)
            .ToArray();
        HashSet<string> documented = ReadTagTable();

        Assert.Contains(SafeMemTags.Name, constants);
        Assert.All(constants, key => Assert.Matches(@"^safemem(\.[a-z0-9_]+)+$", key));
        Assert.Equal(constants.Order(StringComparer.Ordinal), documented.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void WeightInstruments_UseTheUnitTheOptionsName()
    {
        using var factory = new TestMeterFactory();
        using var listener = new InstrumentListener(factory);
        using var bytes = new BoundedCache<int, byte[]>(new() { Name = "bytes", MaximumWeight = 100, Weigher = static (_, v) => v.Length, WeightUnit = "By", MeterFactory = factory });
        using var counted = new BoundedCache<int, string>(new() { Name = "counted", MaximumCount = 10, MeterFactory = factory });
        using var weighed = new BoundedCache<int, string>(new() { Name = "weighed", MaximumWeight = 10, Weigher = static (_, v) => v.Length, MeterFactory = factory });

        IReadOnlyList<Published> published = listener.Observe();

        Assert.Equal(["By", "{entry}", "{weight}"], published.Where(p => p.Instrument.Name == "safemem.cache.weight").Select(p => p.Instrument.Unit!).Order(StringComparer.Ordinal));
        Assert.Equal("By", bytes.GetStatistics().WeightUnit);
        Assert.Equal("{entry}", counted.GetStatistics().WeightUnit);
        Assert.Equal("{weight}", weighed.GetStatistics().WeightUnit);
    }

    [Fact]
    public void VocabularyProblems_FlagsNamesThatBreakTheRules()
    {
        using var meter = new Meter("vocabulary-probe");

        Assert.NotEmpty(VocabularyProblems(meter.CreateObservableCounter("safemem.cache.eviction", static () => 0L, "{entry}", "Singular counter.")));
        Assert.NotEmpty(VocabularyProblems(meter.CreateObservableUpDownCounter("safemem.cache.entries", static () => 0L, "{entry}", "Plural gauge.")));
        Assert.NotEmpty(VocabularyProblems(meter.CreateObservableCounter("safemem.events.raises", static () => 0L, "{raise}", "Plural block.")));
        Assert.NotEmpty(VocabularyProblems(meter.CreateObservableCounter("safemem.event.subscriptions.collected", static () => 0L, "{subscription}", "Collected, not reclamations.")));
        Assert.NotEmpty(VocabularyProblems(meter.CreateObservableCounter("safemem.event.raises", static () => 0L, "{raises}", "Plural unit.")));
        Assert.NotEmpty(VocabularyProblems(meter.CreateObservableCounter("safemem.event.raises", static () => 0L, "{raise}", "")));
        Assert.Empty(VocabularyProblems(meter.CreateObservableCounter("safemem.event.raises", static () => 0L, "{raise}", "Raises.")));
        Assert.Empty(VocabularyProblems(meter.CreateObservableCounter("safemem.watcher.analyses", static () => 0L, "{analysis}", "Analyses.")));
        Assert.NotEmpty(VocabularyProblems(meter.CreateObservableCounter("safemem.watcher.analyses", static () => 0L, "{analyses}", "Plural unit.")));
    }

    private static IEnumerable<string> VocabularyProblems(Instrument instrument)
    {
        string name = instrument.Name;
        string[] segments = name.Split('.');
        if (!InstrumentNames.IsValid(name) || segments.Length < 3)
        {
            yield return "not of the form safemem.<block>.<what>";
            yield break;
        }

        if (segments[1].EndsWith('s'))
        {
            yield return $"the block segment '{segments[1]}' must be singular";
        }

        if (segments.Any(s => s == "collected"))
        {
            yield return "'collected by the GC' is called 'reclamations'";
        }

        string last = segments[^1];
        switch (KindOf(instrument))
        {
            case "ObservableCounter" when !last.EndsWith('s'):
                yield return $"a counter of things that happened is a plural noun, not '{last}'";
                break;
            case "ObservableUpDownCounter" or "ObservableGauge" when last.EndsWith('s'):
                yield return $"an up-down counter or gauge is singular (<thing>.count, <thing>.limit), not '{last}'";
                break;
        }

        if (string.IsNullOrEmpty(instrument.Unit) || !UnitPattern().IsMatch(instrument.Unit) || (instrument.Unit.StartsWith('{') && instrument.Unit.EndsWith("s}", StringComparison.Ordinal) && !s_singularEndingInS.Contains(instrument.Unit)))
        {
            yield return $"unit '{instrument.Unit}' is not a UCUM unit or a singular annotation in braces";
        }

        if (string.IsNullOrWhiteSpace(instrument.Description) || !instrument.Description.EndsWith('.'))
        {
            yield return "needs a description (a sentence ending with a period)";
        }
    }

    private static string KindOf(Instrument instrument) => instrument.GetType().Name.Split('`')[0];

    /// <summary>Builds one instance of every block kind on a private meter and returns what the meter published.</summary>
    private static IReadOnlyList<Published> PublishEveryBlock()
    {
        using var factory = new TestMeterFactory();
        using var listener = new InstrumentListener(factory);

        using var counted = new BoundedCache<int, string>(new() { MaximumCount = 10, MeterFactory = factory });
        using var weighed = new BoundedCache<int, string>(new() { MaximumWeight = 10, Weigher = static (_, v) => v.Length, WeightUnit = "By", MeterFactory = factory });
        var events = new WeakEventSource<EventArgs>(new WeakEventSourceOptions { MeterFactory = factory });
        var attachment = new Attachment<object, string>(new AttachmentOptions { MeterFactory = factory });
        var registry = new WeakValueRegistry<int, object>(new RegistryOptions { MeterFactory = factory });

        using var scope = new DisposalScope(new DisposalScopeOptions { MeterFactory = factory });
        var tracker = new LeakTracker(new LeakTrackerOptions { MeterFactory = factory });
        using var pool = new TrackedObjectPool<System.Text.StringBuilder>(
            new Microsoft.Extensions.ObjectPool.StringBuilderPooledObjectPolicy(),
            new TrackedObjectPoolOptions { MeterFactory = factory, SamplingRate = 1 });
        using var watcher = new LeakWatcher(new LeakWatcherOptions { MeterFactory = factory });
        var distributed = new SafeMem.Extensions.Caching.ResilientDistributedCache(
            new Microsoft.Extensions.Caching.Distributed.MemoryDistributedCache(Microsoft.Extensions.Options.Options.Create(new Microsoft.Extensions.Caching.Memory.MemoryDistributedCacheOptions())),
            new SafeMem.Extensions.Caching.ResilientDistributedCacheOptions { MeterFactory = factory });

        // The Redis backplane, as AddSafeMemRedisBackplane builds it; its connection factory fails (no Redis here), which
        // it only retries in the background.
        var hybridServices = new Microsoft.Extensions.DependencyInjection.ServiceCollection();
        hybridServices.AddSingleton<Microsoft.Extensions.Caching.Distributed.IDistributedCache>(
            new Microsoft.Extensions.Caching.Distributed.MemoryDistributedCache(Microsoft.Extensions.Options.Options.Create(new Microsoft.Extensions.Caching.Memory.MemoryDistributedCacheOptions())));
        hybridServices.AddSafeMemHybridCache(o => o.MaximumCount = 10).AddSafeMemRedisBackplane(o =>
        {
            o.MeterFactory = factory;
            o.ConnectionMultiplexerFactory = static () => Task.FromException<StackExchange.Redis.IConnectionMultiplexer>(new InvalidOperationException("No Redis in this test."));
        });
        using Microsoft.Extensions.DependencyInjection.ServiceProvider hybrid = hybridServices.BuildServiceProvider();
        _ = hybrid.GetRequiredService<SafeMem.Extensions.Backplane.RedisBackplane>();

        // Exercise every reading that is not reported before something happened.
        counted.Set(1, "a");
        weighed.Set(1, "a");
        counted.TryRemove(1);

        pool.Return(pool.Get());
        tracker.Track(new object()).Dispose();
        LeakOne(tracker);
        var retained = new object();
        watcher.Watch(retained, "retained");
        for (int i = 0; i < 20 && (tracker.GetStatistics().Leaks == 0 || watcher.GetStatistics().Retained == 0); i++)
        {
            GcAssert.FullCollect();
            Thread.Sleep(10 * i); // the watcher judges on the thread pool after the collection
        }

        IReadOnlyList<Published> published = listener.Observe();
        GC.KeepAlive(tracker);
        GC.KeepAlive(events);
        GC.KeepAlive(attachment);
        GC.KeepAlive(registry);
        GC.KeepAlive(distributed);
        GC.KeepAlive(retained);
        return published;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void LeakOne(LeakTracker tracker) => _ = tracker.Track(new object());

    private static Dictionary<string, DocumentedInstrument> ReadInstrumentTable()
    {
        var rows = new Dictionary<string, DocumentedInstrument>(StringComparer.Ordinal);
        foreach (string[] cells in TableRows("## Instruments"))
        {
            Assert.True(cells.Length == 5, $"docs/telemetry.md instrument row with {cells.Length} cells: {string.Join(" | ", cells)}");
            rows.Add(cells[0].Trim('`'), new DocumentedInstrument(cells[1], cells[2], cells[3]));
        }

        return rows;
    }

    private static HashSet<string> ReadTagTable()
        => TableRows("## Tags").Select(cells => cells[0].Trim('`')).ToHashSet(StringComparer.Ordinal);

    private static IEnumerable<string[]> TableRows(string heading)
    {
        string[] lines = File.ReadAllLines(RepositoryPaths.Combine("docs", "telemetry.md"));
        int start = Array.IndexOf(lines, heading);
        Assert.True(start >= 0, $"docs/telemetry.md has no '{heading}' section");
        foreach (string line in lines.Skip(start + 1).SkipWhile(l => !l.StartsWith('|')).TakeWhile(l => l.StartsWith('|')).Skip(2))
        {
            yield return line.Trim('|').Split(" | ").Select(c => c.Trim()).ToArray();
        }
    }

    [GeneratedRegex(@"^(By|s|1|\{[a-z][a-z_]*\})$")]
    private static partial Regex UnitPattern();

    private sealed record DocumentedInstrument(string Kind, string Unit, string Tags);

    private sealed record Published(Instrument Instrument, IReadOnlySet<string> TagKeys);

    /// <summary>Every instrument a factory's meters publish, with the tag keys of their measurements.</summary>
    private sealed class InstrumentListener : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly List<Instrument> _instruments = [];
        private readonly Dictionary<Instrument, HashSet<string>> _tags = [];

        public InstrumentListener(TestMeterFactory factory)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Scope == factory)
                {
                    lock (_instruments)
                    {
                        _instruments.Add(instrument);
                    }

                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, _, tags, _) =>
            {
                lock (_instruments)
                {
                    if (!_tags.TryGetValue(instrument, out HashSet<string>? keys))
                    {
                        _tags[instrument] = keys = new HashSet<string>(StringComparer.Ordinal);
                    }

                    foreach (KeyValuePair<string, object?> tag in tags)
                    {
                        keys.Add(tag.Key);
                    }
                }
            });
            _listener.Start();
        }

        public IReadOnlyList<Published> Observe()
        {
            _listener.RecordObservableInstruments();
            lock (_instruments)
            {
                return _instruments
                    .Select(i => new Published(i, _tags.TryGetValue(i, out HashSet<string>? keys) ? keys : new HashSet<string>()))
                    .ToList();
            }
        }

        public void Dispose() => _listener.Dispose();
    }
}
