using System.Reflection;
using System.Runtime.Versioning;

namespace SafeMem.Tests.Infrastructure;

/// <summary>
/// The suite runs once per shipped target framework; each run must really execute on that runtime, against that
/// target's build of the library (the net8.0 run is self-contained), or "tested on .NET 8" would silently mean
/// "tested on .NET 10 twice".
/// </summary>
public sealed class TargetRuntimeTests
{
    [Fact]
    public void Runtime_MatchesTheTargetFrameworkOfTestsAndLibrary()
    {
        int testsTarget = TargetMajorVersion(typeof(TargetRuntimeTests).Assembly);

        Assert.Equal(testsTarget, Environment.Version.Major);
        Assert.Equal(testsTarget, TargetMajorVersion(typeof(SafeMem.Caching.RemovalReason).Assembly));
    }

    private static int TargetMajorVersion(Assembly assembly)
    {
        // e.g. ".NETCoreApp,Version=v8.0"
        string name = assembly.GetCustomAttribute<TargetFrameworkAttribute>()!.FrameworkName;
        return new Version(name[(name.IndexOf("Version=v", StringComparison.Ordinal) + "Version=v".Length)..]).Major;
    }
}
