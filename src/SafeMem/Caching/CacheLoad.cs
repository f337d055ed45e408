namespace SafeMem.Caching;

/// <summary>
/// One in-flight <c>GetOrAdd</c> load, as <see cref="LoadScope"/> sees it: whatever the cache's key and value types,
/// it can say which load the flow running its factory is waiting for, so waits that close a cycle can be refused.
/// </summary>
internal abstract class CacheLoad
{
    /// <summary>
    /// The load that the flow running this load's factory waits for right now, or null. Written by that flow only
    /// (before and after it waits), read by any flow about to wait, with full fences between (see <see cref="LoadScope"/>).
    /// </summary>
    public CacheLoad? WaitingOn;
}
