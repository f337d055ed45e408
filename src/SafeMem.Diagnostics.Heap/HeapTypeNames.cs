using SafeMem.Diagnostics.Heap.Internal;

namespace SafeMem.Diagnostics.Heap;

/// <summary>
/// Type names as snapshots and retention paths write them: C# spelling (<c>List&lt;int&gt;</c>,
/// <c>Outer&lt;int&gt;.Inner</c>, <c>int[]</c>), compiler-generated types after what the source called them (a closure
/// is <c>(closure in Type.Method)</c>). Callers that put a type beside a snapshot's rows (a report, a test message) name
/// it here so that the two agree.
/// </summary>
/// <remarks>Stateless and thread-safe.</remarks>
public static class HeapTypeNames
{
    /// <summary>Gets the full name of a type (namespaces kept), as <see cref="HeapTypeSummary.TypeName"/> writes it.</summary>
    /// <param name="type">The type.</param>
    /// <returns>The name, e.g. <c>MyApp.Outer&lt;int&gt;.Inner</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="type"/> is <see langword="null"/>.</exception>
    public static string FullName(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return TypeNames.Full(type);
    }

    /// <summary>Gets the short name of a type (no namespaces), as <see cref="RetentionPath"/> hops write it.</summary>
    /// <param name="type">The type.</param>
    /// <returns>The name, e.g. <c>Outer&lt;int&gt;.Inner</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="type"/> is <see langword="null"/>.</exception>
    public static string DisplayName(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return TypeNames.Short(type);
    }
}
