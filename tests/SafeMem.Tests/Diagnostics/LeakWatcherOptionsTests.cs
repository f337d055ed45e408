using SafeMem.Diagnostics;

namespace SafeMem.Tests.Diagnostics;

public sealed class LeakWatcherOptionsTests
{
    [Fact]
    public void Defaults_AreDocumented()
    {
        var options = new LeakWatcherOptions();

        Assert.Null(options.Name);
        Assert.Equal(2, options.RetainedAfterCollections);
        Assert.Equal(1_000, options.MaximumRetained);
        Assert.Null(options.InducedCollectionInterval);
        Assert.Null(options.Explainer);
        Assert.Null(options.DumpDirectory);
        Assert.False(options.AutomaticAnalysis);
        Assert.Equal(5, options.AnalysisThreshold);
        Assert.Equal(TimeSpan.FromHours(1), options.MinimumAnalysisInterval);
        Assert.Null(options.MeterFactory);
    }

    [Fact]
    public void Setters_RejectValuesThatCanNeverBeValid()
    {
        var options = new LeakWatcherOptions();

        Assert.Throws<ArgumentException>("Name", () => options.Name = " ");
        Assert.Throws<ArgumentOutOfRangeException>(() => options.RetainedAfterCollections = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.RetainedAfterCollections = LeakWatcherOptions.MaximumRetainedAfterCollections + 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.MaximumRetained = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.InducedCollectionInterval = TimeSpan.FromMilliseconds(99));
        Assert.Throws<ArgumentOutOfRangeException>(() => options.InducedCollectionInterval = Timeout.InfiniteTimeSpan);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.InducedCollectionInterval = TimeSpan.MaxValue);
        Assert.Throws<ArgumentException>(() => options.DumpDirectory = "");
        Assert.Throws<ArgumentOutOfRangeException>(() => options.AnalysisThreshold = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.MinimumAnalysisInterval = TimeSpan.FromTicks(-1));

        // A refused value leaves the previous one.
        Assert.Equal(2, options.RetainedAfterCollections);
        Assert.Null(options.InducedCollectionInterval);
    }

    [Fact]
    public void Setters_AcceptTheirBounds()
    {
        var options = new LeakWatcherOptions
        {
            Name = "bounds",
            RetainedAfterCollections = LeakWatcherOptions.MaximumRetainedAfterCollections,
            MaximumRetained = 1,
            InducedCollectionInterval = TimeSpan.FromMilliseconds(100),
            DumpDirectory = "/tmp",
            AnalysisThreshold = 1,
            MinimumAnalysisInterval = TimeSpan.Zero,
        };

        options.InducedCollectionInterval = null;
        options.DumpDirectory = null;

        Assert.Equal(16, options.RetainedAfterCollections);
        Assert.Null(options.InducedCollectionInterval);
        Assert.Null(options.DumpDirectory);
    }

    [Fact]
    public void Watcher_CopiesTheOptions()
    {
        var options = new LeakWatcherOptions { Name = "copied", RetainedAfterCollections = 4 };
        using var watcher = new LeakWatcher(options);

        options.RetainedAfterCollections = 1;
        options.Name = "changed";

        Assert.Equal(("copied", 4), (watcher.Name, watcher.RetainedAfterCollections));
    }
}
