using System.Diagnostics.CodeAnalysis;

namespace SafeMem.Diagnostics;

/// <summary>
/// Finds the explainer of the <c>SafeMem.Diagnostics.Heap</c> package by name, so that referencing the package is all an
/// application does to make <see cref="LeakWatcher.AnalyzeAsync"/> work, while the core package never references it.
/// </summary>
/// <remarks>
/// A name lookup (<see cref="Type.GetType(string, bool)"/>) loads the package's assembly if the application has it; a
/// module initializer in that package could not register itself, since nothing would load its assembly. The
/// <see cref="DynamicDependencyAttribute"/> keeps the explainer's constructor when an application that references the
/// package is trimmed.
/// </remarks>
internal static class ExplainerDiscovery
{
    public const string PackageName = "SafeMem.Diagnostics.Heap";

    public const string TypeName = "SafeMem.Diagnostics.Heap.HeapLeakExplainer";

    public const string MissingMessage =
        "LeakWatcher.AnalyzeAsync needs a heap explainer to find what retains the retained objects, and none was found: add a reference to the " +
        PackageName + " package (the watcher finds its " + TypeName + " by itself), or set LeakWatcherOptions.Explainer. " +
        "The core SafeMem package detects retained objects but does not read heaps.";

    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor, TypeName, PackageName)]
    public static ILeakExplainer? Find()
    {
        Type? type = Type.GetType(TypeName + ", " + PackageName, throwOnError: false);
        if (type is null)
        {
            return null;
        }

        try
        {
            return Activator.CreateInstance(type) as ILeakExplainer
                ?? throw new InvalidOperationException($"{TypeName} in {PackageName} does not implement {nameof(ILeakExplainer)}: the package's version does not match SafeMem's.");
        }
        catch (System.Reflection.TargetInvocationException exception)
        {
            throw new InvalidOperationException($"{PackageName}'s explainer failed to start: {exception.InnerException?.Message}", exception.InnerException ?? exception);
        }
    }
}
