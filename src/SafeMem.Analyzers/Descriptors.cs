using Microsoft.CodeAnalysis;

namespace SafeMem.Analyzers;

/// <summary>The rules SafeMem.Analyzers reports: their IDs, default severities and documentation pages.</summary>
internal static class Descriptors
{
    internal const string Category = "Leaks";

    // The diagnostic properties a code fix reads (the analyzer decides what a fix may do; the fix only rewrites).
    internal const string SafeMemReferencedProperty = "SafeMemReferenced";
    internal const string UsedAsCacheProperty = "UsedAsCache";

    internal static readonly DiagnosticDescriptor StaticCollectionOnlyGrows = Create(
        "SM1001",
        "Static collection only grows",
        "Static field '{0}' is only ever added to: nothing in the compilation removes from, clears or replaces it, so it keeps every entry for the life of the process{1}",
        DiagnosticSeverity.Warning,
        "A static collection that code adds to outside its initialization, and that nothing removes from, clears or replaces, grows for as long as the process runs. Bound it (SafeMem's BoundedCache for a cache), remove entries when they are done, or hold them weakly.",
        WellKnownDiagnosticTags.CompilationEnd);

    internal static readonly DiagnosticDescriptor SubscriptionOutlivesSubscriber = Create(
        "SM1002",
        "Subscription outlives its subscriber",
        "'{0}' subscribes to '{1}' of an object it did not create and never removes the handler: the event's source keeps this '{2}' alive as long as the source lives",
        DiagnosticSeverity.Warning,
        "An event handler bound to 'this', added to an event of a static or longer-lived object (a service the class was given), roots the subscriber until the handler is removed. Remove it with a matching '-=' (in Dispose), or subscribe weakly (SafeMem's WeakEventSubscription).");

    internal static readonly DiagnosticDescriptor UnsubscribeNewDelegate = Create(
        "SM1003",
        "'-=' of a new lambda removes nothing",
        "'-=' of a new {0} removes nothing: a new delegate never equals the one that was subscribed",
        DiagnosticSeverity.Warning,
        "Every lambda or anonymous method expression creates a new delegate, which never equals the delegate that was subscribed earlier, so the handler stays subscribed. Keep the subscribed delegate in a field and remove that.");

    internal static readonly DiagnosticDescriptor BlockCreatedPerCall = Create(
        "SM1004",
        "SafeMem block created per call",
        "'{0}' is created on every call and dropped at its end: a cache that never hits, a telemetry registration per call; keep one in a static field or a singleton",
        DiagnosticSeverity.Warning,
        "SafeMem's blocks (caches, weak event sources, attachments, registries, leak trackers, tracked pools, leak watchers) are meant to live as long as what they serve. One created in a method and neither returned, stored nor passed on is rebuilt on every call.");

    internal static readonly DiagnosticDescriptor DiscardedRegistration = Create(
        "SM1005",
        "Discarded CancellationTokenRegistration",
        "The registration '{0}' returns is discarded: the callback and everything it captures stay on the token until the token is cancelled",
        DiagnosticSeverity.Warning,
        "CancellationToken.Register keeps the callback on the token until the registration is disposed or the token's source is cancelled or disposed. For an application-lifetime or connection token that is a leak per call. Dispose the registration when the operation ends ('using var registration = ...').");

    internal static readonly DiagnosticDescriptor FireAndForgetTimer = Create(
        "SM1006",
        "Fire-and-forget timer",
        "This {0} is {1}: nothing can stop or dispose it",
        DiagnosticSeverity.Warning,
        "A timer that nobody keeps either runs (and keeps its callback's target alive) until the process ends, or is collected at an unpredictable moment and silently stops. Keep it in a field and dispose it, or dispose it in the method ('using var').");

    internal static readonly DiagnosticDescriptor RentedNeverReturned = Create(
        "SM1007",
        "Pooled object rented and never returned",
        "'{0}' is rented from the pool and not returned on every path out of the method",
        DiagnosticSeverity.Info,
        "An object taken with ObjectPool<T>.Get() and not given back with Return on every path out of the method (a finally counts) is lost to the pool: the pool creates another, and a pool that tracks its rentals reports it.");

    private static DiagnosticDescriptor Create(
        string id, string title, string message, DiagnosticSeverity severity, string description, params string[] tags)
        => new(
            id,
            title,
            message,
            Category,
            severity,
            isEnabledByDefault: true,
            description: description,
            helpLinkUri: $"https://github.com/safemem/safemem/blob/main/docs/analyzers/{id}.md",
            customTags: tags);
}
