using System.Globalization;
using System.Text;

namespace SafeMem.Diagnostics;

/// <summary>
/// What <see cref="LeakWatcher.Retained"/> reports about one watched object that is still alive after
/// <see cref="LeakWatcherOptions.RetainedAfterCollections"/> full garbage collections since it was watched: its type,
/// its description, the watcher, how long ago it was watched and how many full collections it survived.
/// </summary>
/// <remarks>
/// Immutable and safe to keep: it holds the object's <see cref="System.Type"/> but never the object, so a report kept
/// in a log or a list does not itself retain what it reports. <see cref="ToString"/> is the readable report.
/// </remarks>
public sealed class RetainedObject : EventArgs
{
    internal RetainedObject(Type type, string typeName, string description, string watcherName, TimeSpan age, int collections)
    {
        Type = type;
        TypeName = typeName;
        Description = description;
        WatcherName = watcherName;
        Age = age;
        Collections = collections;
    }

    /// <summary>Gets the retained object's type.</summary>
    public Type Type { get; }

    /// <summary>Gets the retained object's type name as C# writes it (<c>MyApp.RequestContext</c>): the value of the <c>safemem.watcher.object.type</c> tag.</summary>
    public string TypeName { get; }

    /// <summary>Gets the description given to <see cref="LeakWatcher.Watch"/> (what ended: "scoped service ... of a disposed scope", "closed window").</summary>
    public string Description { get; }

    /// <summary>Gets the name of the watcher that watched the object.</summary>
    public string WatcherName { get; }

    /// <summary>Gets how long ago the object was watched, measured when it was found retained.</summary>
    public TimeSpan Age { get; }

    /// <summary>Gets how many completed full (generation 2) garbage collections the watcher saw the object survive after it was watched.</summary>
    public int Collections { get; }

    /// <summary>Returns the report as text for a person: type, watcher, description, age and collections, and what to do next.</summary>
    /// <returns>The multi-line report.</returns>
    public override string ToString()
    {
        var builder = new StringBuilder();
        builder.Append("RETAINED: a ").Append(TypeName).Append(" is still alive ")
            .Append(Collections.ToString(CultureInfo.InvariantCulture)).Append(" full garbage collection").Append(Collections == 1 ? string.Empty : "s")
            .Append(" after it was watched.").AppendLine();
        builder.Append("  watcher: ").Append(WatcherName).AppendLine();
        builder.Append("  description: ").Append(Description).AppendLine();
        builder.Append("  age: ").Append(Age.ToString("c", CultureInfo.InvariantCulture)).Append(" (since the Watch call)").AppendLine();
        builder.Append("  what holds it: LeakWatcher.AnalyzeAsync gives the retention path (with the SafeMem.Diagnostics.Heap package)");
        return builder.ToString();
    }
}
