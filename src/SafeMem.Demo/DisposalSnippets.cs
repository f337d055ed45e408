using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.ObjectPool;
using SafeMem.Disposal;
using SafeMem.Pooling;

namespace SafeMem.Demo;

// The code docs/disposal.md shows, compiled. tests/SafeMem.Tests/Disposal/DisposalDocsTests.cs checks that every line
// of that page's C# blocks appears here. Not run by the demo.
internal static class DisposalSnippets
{
    public static async Task Scope(CancellationToken cancellationToken)
    {
        await using var scope = new DisposalScope("request");
        var stream = scope.Add(new MemoryStream());
        scope.Add(cancellationToken.Register(static () => Console.WriteLine("cancelled")));
        scope.Add(() => Console.WriteLine("request ended"));
        stream.WriteByte(1);
    }

    public static void Listen()
    {
        Connection.Listen();
    }

    public static void Pool()
    {
        using var pool = new TrackedObjectPool<StringBuilder>(
            new StringBuilderPooledObjectPolicy(),
            new TrackedObjectPoolOptions { Name = "builders", SamplingRate = 1.0 / 128, CaptureStackTrace = true });
        pool.LeakTracker!.LeakDetected += static (_, report) => Console.Error.WriteLine(report);
        StringBuilder builder = pool.Get();
        pool.Return(builder);
    }

    public static void Services(IServiceCollection services)
    {
        services.AddSafeMemObjectPools(options => options.SamplingRate = 0.01);
    }

    public sealed class Connection : IDisposable
    {
        private static readonly LeakTracker s_leaks = new("connections", new LeakTrackerOptions { SamplingRate = 0.01, CaptureStackTrace = true });
        private readonly LeakHandle _leak;

        public Connection() => _leak = s_leaks.Track(this);

        public void Dispose() => _leak.Dispose();

        internal static void Listen()
        {
            s_leaks.LeakDetected += static (_, report) => Console.Error.WriteLine(report);
        }
    }

    public sealed class Session(LeakTracker tracker) : TrackedDisposable(tracker)
    {
        protected override void Dispose(bool disposing) => Console.WriteLine("session closed");
    }
}
