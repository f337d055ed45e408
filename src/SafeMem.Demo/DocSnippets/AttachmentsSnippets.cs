using SafeMem.Attachments;

namespace SafeMem.Demo.DocSnippets;

// The code docs/attachments.md shows, compiled (checked by tests/SafeMem.Tests/DocsTests.cs). Not run by the demo.
internal static class AttachmentsSnippets
{
    private static readonly Attachment<HttpRequestContext, RequestTimings> s_timings = new("request-timings");

    public static void Record(HttpRequestContext request, TimeSpan elapsed)
    {
        RequestTimings timings = s_timings.GetOrAdd(request, static _ => new RequestTimings());
        timings.Add(elapsed);
    }

    public static TimeSpan? Total(HttpRequestContext request) =>
        s_timings.TryGet(request, out RequestTimings? timings) ? timings.Total : null;

    public static void Replace(HttpRequestContext request) => s_timings.Set(request, new RequestTimings());

    public static string Figures()
    {
        AttachmentStatistics stats = s_timings.GetStatistics();
        return $"{stats.Count} live, {stats.Additions} added, {stats.Reclamations} reclaimed";
    }

    internal sealed class HttpRequestContext;

    internal sealed class RequestTimings
    {
        public TimeSpan Total { get; private set; }

        public void Add(TimeSpan elapsed) => Total += elapsed;
    }
}
