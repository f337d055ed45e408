using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SafeMem.Diagnostics;
using SafeMem.Extensions.Diagnostics;
using SafeMem.Tests.Diagnostics;

namespace SafeMem.Extensions.Tests.DependencyInjection;

public sealed class LeakWatcherRegistrationTests
{
    private static ServiceProvider? s_host;

    private const string ContextDescription = "scoped service SafeMem.Extensions.Tests.DependencyInjection.LeakWatcherRegistrationTests.RequestContext, resolved in a scope that was disposed";

    [Fact]
    public void AddSafeMemLeakWatcher_RegistersOneConfiguredSingleton()
    {
        var services = new ServiceCollection();
        services.AddSafeMemLeakWatcher(options =>
        {
            options.Name = "app";
            options.RetainedAfterCollections = 3;
        });

        using ServiceProvider provider = services.BuildServiceProvider();
        var watcher = provider.GetRequiredService<LeakWatcher>();

        Assert.Same(watcher, provider.GetRequiredService<LeakWatcher>());
        Assert.Equal(("app", 3), (watcher.Name, watcher.RetainedAfterCollections));
        provider.Dispose();
        Assert.Throws<ObjectDisposedException>(() => watcher.Watch(new object(), "after the container"));
    }

    [Fact]
    public void AddSafeMemLeakWatcher_BadInputAndSecondCall_Throw()
    {
        var services = new ServiceCollection();
        services.AddSafeMemLeakWatcher();

        Assert.Throws<ArgumentNullException>("services", () => LeakWatcherServiceCollectionExtensions.AddSafeMemLeakWatcher(null!));
        InvalidOperationException twice = Assert.Throws<InvalidOperationException>(() => services.AddSafeMemLeakWatcher());
        Assert.Contains("services.Configure<LeakWatcherServiceOptions>", twice.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ServiceCollection().AddSafeMemLeakWatcher(o => o.RetainedAfterCollections = 0));
    }

    [Fact]
    public void WatchScopedServicesOff_LeavesTheRegistrationsAlone()
    {
        var services = new ServiceCollection();
        services.AddScoped<RequestContext>();
        ServiceDescriptor before = services[0];

        services.AddSafeMemLeakWatcher();

        Assert.Same(before, services[0]);
        Assert.DoesNotContain(services, d => d.ServiceType == typeof(ScopeResolutions));
    }

    [Fact]
    public void WatchScopedServicesChangedLater_FailsStartupValidation()
    {
        var services = new ServiceCollection();
        services.AddSafeMemLeakWatcher(o => o.WatchScopedServices = true);
        services.Configure<LeakWatcherServiceOptions>(o => o.WatchScopedServices = false);

        using ServiceProvider provider = services.BuildServiceProvider();
        OptionsValidationException invalid = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("read when AddSafeMemLeakWatcher runs", invalid.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CaptiveScopedService_IsReportedRetained_AndTheOtherScopesServicesCollected()
    {
        var services = new ServiceCollection();
        services.AddSingleton<AuditLog>();
        services.AddScoped<RequestContext>();
        services.AddSafeMemLeakWatcher(o =>
        {
            o.Name = "captive";
            o.WatchScopedServices = true;
        });
        using ServiceProvider provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
        var watcher = provider.GetRequiredService<LeakWatcher>();
        var recorder = new WatcherHarness.Recorder(watcher);

        // Ten requests; the singleton keeps the last one's context: the captive dependency.
        for (int request = 0; request < 10; request++)
        {
            ServeRequest(provider, request);
        }

        Assert.True(WatcherHarness.CollectUntil(watcher, s => s.Pending == 0));
        LeakWatcherStatistics statistics = watcher.GetStatistics();
        Assert.Equal((10, 9, 1), (statistics.Watched, statistics.Collected, statistics.Retained));
        RetainedObject report = Assert.Single(recorder.Reports);
        Assert.Equal(typeof(RequestContext), report.Type);
        Assert.Equal(ContextDescription, report.Description);
        Assert.Equal(9, provider.GetRequiredService<AuditLog>().Last!.Request);
    }

    [Fact]
    public async Task CaptiveScopedService_AnalysisNamesTheSingletonAndItsField()
    {
        var services = new ServiceCollection();
        services.AddSingleton<AuditLog>();
        services.AddScoped<RequestContext>();
        services.AddSafeMemLeakWatcher(o =>
        {
            o.Name = "captive-path";
            o.WatchScopedServices = true;
        });

        // Held by a static, as a running host holds its container.
        s_host = services.BuildServiceProvider();
        try
        {
            var watcher = s_host.GetRequiredService<LeakWatcher>();
            for (int request = 0; request < 3; request++)
            {
                ServeRequest(s_host, request);
            }

            Assert.True(WatcherHarness.CollectUntil(watcher, s => s.Retained == 1 && s.Pending == 0));

            // The explainer of SafeMem.Diagnostics.Heap (beside this test assembly, as in an app that references it),
            // found by name: one dump of this process.
            LeakAnalysis analysis = await watcher.AnalyzeAsync();

            LeakGroup leak = Assert.Single(analysis.Leaks);
            Assert.Equal(typeof(RequestContext).FullName!.Replace('+', '.'), leak.TypeName);
            Assert.Equal([ContextDescription], leak.Descriptions);
            Assert.Contains(leak.References, hop => hop.StartsWith("LeakWatcherRegistrationTests.AuditLog.", StringComparison.Ordinal) && hop.Contains("Last", StringComparison.Ordinal));
            Assert.Contains("AuditLog", analysis.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            s_host.Dispose();
            s_host = null;
        }
    }

    [Fact]
    public void TenThousandScopesThatLeakNothing_ProduceNoReport()
    {
        var services = new ServiceCollection();
        services.AddScoped<RequestContext>();
        services.AddScoped<Repository>();
        services.AddSafeMemLeakWatcher(o => o.WatchScopedServices = true);
        using ServiceProvider provider = services.BuildServiceProvider();
        var watcher = provider.GetRequiredService<LeakWatcher>();
        var recorder = new WatcherHarness.Recorder(watcher);

        ServeRequests(provider, 10_000);

        Assert.True(WatcherHarness.CollectUntil(watcher, s => s.Pending == 0));
        Assert.Equal((20_000, 20_000, 0), (watcher.GetStatistics().Watched, watcher.GetStatistics().Collected, watcher.GetStatistics().Retained));
        Assert.Empty(recorder.Reports);
    }

    // In a frame of its own: a stack slot of the test method could otherwise keep the last scope's services alive.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ServeRequests(IServiceProvider provider, int requests)
    {
        for (int request = 0; request < requests; request++)
        {
            using IServiceScope scope = provider.CreateScope();
            scope.ServiceProvider.GetRequiredService<Repository>().Context.Request = request;
        }
    }

    [Fact]
    public void EveryScopedInstance_IsWatchedOnce_AndDisposedOnce()
    {
        var services = new ServiceCollection();
        services.AddScoped<RequestContext>();
        services.AddScoped<Repository>(); // depends on RequestContext
        services.AddScoped<IHandler, FirstHandler>();
        services.AddScoped<IHandler>(static _ => new SecondHandler()); // a factory registration
        services.AddScoped<Connection>();
        services.AddScoped(static _ => (object)42); // a factory returning a boxed value: resolves, nothing to watch
        services.AddSafeMemLeakWatcher(o => o.WatchScopedServices = true);
        using ServiceProvider provider = services.BuildServiceProvider();
        var watcher = provider.GetRequiredService<LeakWatcher>();
        Connection connection;
        Repository repository;
        IHandler[] handlers;

        using (IServiceScope scope = provider.CreateScope())
        {
            repository = scope.ServiceProvider.GetRequiredService<Repository>();
            Assert.Same(repository.Context, scope.ServiceProvider.GetRequiredService<RequestContext>());
            handlers = [.. scope.ServiceProvider.GetServices<IHandler>()];
            connection = scope.ServiceProvider.GetRequiredService<Connection>();
            Assert.Equal(42, scope.ServiceProvider.GetRequiredService<object>());
            Assert.False(watcher.IsWatched(connection)); // watched when the scope ends, not before
        }

        Assert.Equal(1, connection.Disposals);
        Assert.All(new object[] { repository, repository.Context, handlers[0], handlers[1], connection }, o => Assert.True(watcher.IsWatched(o)));
        Assert.Equal(5, watcher.GetStatistics().Watched);
        Assert.IsType<FirstHandler>(handlers[0]);
        Assert.IsType<SecondHandler>(handlers[1]);
    }

    [Fact]
    public async Task AsyncScope_IsWatchedWhenDisposedAsynchronously()
    {
        var services = new ServiceCollection();
        services.AddScoped<Connection>();
        services.AddSafeMemLeakWatcher(o => o.WatchScopedServices = true);
        await using ServiceProvider provider = services.BuildServiceProvider();
        var watcher = provider.GetRequiredService<LeakWatcher>();
        Connection connection;

        await using (AsyncServiceScope scope = provider.CreateAsyncScope())
        {
            connection = scope.ServiceProvider.GetRequiredService<Connection>();
        }

        Assert.True(watcher.IsWatched(connection));
        Assert.Equal(1, connection.Disposals);
    }

    [Fact]
    public void SeveralConstructors_TheLongestSatisfiableIsUsed_AsTheContainerWould()
    {
        var services = new ServiceCollection();
        services.AddScoped<RequestContext>();
        services.AddScoped<Flexible>();
        services.AddSafeMemLeakWatcher(o => o.WatchScopedServices = true);
        using ServiceProvider provider = services.BuildServiceProvider();

        using IServiceScope scope = provider.CreateScope();
        var flexible = scope.ServiceProvider.GetRequiredService<Flexible>();

        Assert.Same(scope.ServiceProvider.GetRequiredService<RequestContext>(), flexible.Context);
    }

    [Fact]
    public void NotCoveredRegistrations_StillResolve_AndAreNotWatched()
    {
        var services = new ServiceCollection();
        services.AddScoped(typeof(Box<>)); // open generic
        services.AddKeyedScoped<RequestContext>("keyed");
        services.AddTransient<Connection>();
        services.AddSafeMemLeakWatcher(o => o.WatchScopedServices = true);
        services.AddScoped<Repository>(); // registered after the call
        services.AddScoped<RequestContext>();
        using ServiceProvider provider = services.BuildServiceProvider();
        var watcher = provider.GetRequiredService<LeakWatcher>();
        object[] resolved;

        using (IServiceScope scope = provider.CreateScope())
        {
            resolved =
            [
                scope.ServiceProvider.GetRequiredService<Box<int>>(),
                scope.ServiceProvider.GetRequiredKeyedService<RequestContext>("keyed"),
                scope.ServiceProvider.GetRequiredService<Connection>(),
                scope.ServiceProvider.GetRequiredService<Repository>(),
            ];
        }

        Assert.All(resolved, o => Assert.False(watcher.IsWatched(o)));
        Assert.Equal(0, watcher.GetStatistics().Watched);
    }

    [Fact]
    public void ScopedServiceFromTheRootProvider_ResolvesAsBefore()
    {
        var services = new ServiceCollection();
        services.AddScoped<RequestContext>();
        services.AddSafeMemLeakWatcher(o => o.WatchScopedServices = true);

        using (ServiceProvider lenient = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = false }))
        {
            Assert.Same(lenient.GetRequiredService<RequestContext>(), lenient.GetRequiredService<RequestContext>());
        }

        using ServiceProvider strict = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
        Assert.Throws<InvalidOperationException>(() => strict.GetRequiredService<RequestContext>());
    }

    [Fact]
    public void ScopeDisposedAfterTheContainer_DoesNotThrow()
    {
        var services = new ServiceCollection();
        services.AddScoped<RequestContext>();
        services.AddSafeMemLeakWatcher(o => o.WatchScopedServices = true);
        ServiceProvider provider = services.BuildServiceProvider();
        IServiceScope scope = provider.CreateScope();
        scope.ServiceProvider.GetRequiredService<RequestContext>();

        provider.Dispose(); // the watcher, a singleton, goes first
        scope.Dispose();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ServeRequest(IServiceProvider provider, int request)
    {
        using IServiceScope scope = provider.CreateScope();
        var context = scope.ServiceProvider.GetRequiredService<RequestContext>();
        context.Request = request;
        provider.GetRequiredService<AuditLog>().Last = context; // the bug: a singleton keeps the request's context
    }

    public sealed class RequestContext
    {
        public int Request { get; set; }
    }

    public sealed class AuditLog
    {
        public RequestContext? Last { get; set; }
    }

    public sealed class Repository(RequestContext context)
    {
        public RequestContext Context { get; } = context;
    }

    public interface IHandler;

    public sealed class FirstHandler : IHandler;

    public sealed class SecondHandler : IHandler;

    public sealed class Connection : IDisposable
    {
        public int Disposals { get; private set; }

        public void Dispose() => Disposals++;
    }

    public sealed class Flexible
    {
        public Flexible() => Context = null;

        public Flexible(RequestContext context) => Context = context;

        public RequestContext? Context { get; }
    }

    public sealed class Box<T>
    {
        public T? Value { get; set; }
    }
}
