using System.Globalization;
using System.Text;

namespace SafeMem.Disposal;

/// <summary>
/// What <see cref="LeakTracker.LeakDetected"/> reports about one object that became unreachable without being disposed:
/// its type, the tracker that tracked it, how long it lived, and (when captured) the stack that created it.
/// </summary>
/// <remarks>
/// <see cref="ToString"/> is the readable report to paste into a bug: type, tracker, age, details and creation stack.
/// A report is immutable and safe to keep; it refers to no part of the leaked object (which is gone).
/// </remarks>
public sealed class LeakReport : EventArgs
{
    internal LeakReport(Type resourceType, string trackerName, TimeSpan age, string? creationStackTrace, string? details)
    {
        ResourceType = resourceType;
        ResourceTypeName = TypeNames.Of(resourceType);
        TrackerName = trackerName;
        Age = age;
        CreationStackTrace = creationStackTrace;
        Details = details;
    }

    /// <summary>Gets the type of the leaked object.</summary>
    public Type ResourceType { get; }

    /// <summary>Gets the leaked object's type name as C# writes it: the value of the <c>safemem.tracker.resource.type</c> tag.</summary>
    public string ResourceTypeName { get; }

    /// <summary>Gets the name of the tracker that tracked the object.</summary>
    public string TrackerName { get; }

    /// <summary>
    /// Gets how long the object lived: from <see cref="LeakTracker.Track"/> until the leak was found, which is after the
    /// garbage collection that found the object unreachable (so an upper bound of its real life).
    /// </summary>
    public TimeSpan Age { get; }

    /// <summary>
    /// Gets the stack of the <see cref="LeakTracker.Track"/> call (SafeMem's own frames left out), or
    /// <see langword="null"/> when <see cref="LeakTrackerOptions.CaptureStackTrace"/> was off.
    /// </summary>
    public string? CreationStackTrace { get; }

    /// <summary>Gets what the tracking block adds (a scope's undisposed items, the pool an object was rented from), or <see langword="null"/>.</summary>
    public string? Details { get; }

    /// <summary>Returns the report as text for a person: type, tracker, age, details and the creation stack.</summary>
    /// <returns>The multi-line report.</returns>
    public override string ToString()
    {
        var builder = new StringBuilder();
        builder.Append("LEAK: a ").Append(ResourceTypeName)
            .Append(" became unreachable without being disposed.").AppendLine();
        builder.Append("  tracker: ").Append(TrackerName).AppendLine();
        builder.Append("  age: ").Append(Age.ToString("c", CultureInfo.InvariantCulture))
            .Append(" (until the garbage collection that found it)").AppendLine();
        if (Details is not null)
        {
            builder.Append("  details: ").Append(Details).AppendLine();
        }

        if (CreationStackTrace is null)
        {
            builder.Append("  created at: not recorded (set LeakTrackerOptions.CaptureStackTrace to record it)");
        }
        else
        {
            builder.Append("  created at:").AppendLine().Append(CreationStackTrace.TrimEnd());
        }

        return builder.ToString();
    }
}
