using System.Reflection;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests;

/// <summary>
/// Compares each library's public surface with its committed <c>PublicAPI.txt</c>. After an intended API change,
/// regenerate the files with <c>SAFEMEM_UPDATE_PUBLIC_API=1 dotnet test</c> and review the diff.
/// </summary>
public sealed class PublicApiTests
{
    public static TheoryData<string> Libraries => new()
    {
        "SafeMem",
        "SafeMem.Extensions",
        "SafeMem.Testing",
    };

    [Theory]
    [MemberData(nameof(Libraries))]
    public void PublicApi_MatchesCommittedFile(string library)
    {
        Assembly assembly = Assembly.Load(library);
        string actual = PublicApiRenderer.Render(assembly);
        string path = RepositoryPaths.Combine("src", library, "PublicAPI.txt");

        if (Environment.GetEnvironmentVariable("SAFEMEM_UPDATE_PUBLIC_API") == "1")
        {
            File.WriteAllText(path, actual);
        }

        Assert.True(File.Exists(path), $"{path} is missing; run the tests with SAFEMEM_UPDATE_PUBLIC_API=1 to create it.");
        string expected = File.ReadAllText(path).ReplaceLineEndings("\n");
        Assert.True(
            expected == actual,
            $"The public API of {library} differs from {path}. If the change is intended, run the tests with SAFEMEM_UPDATE_PUBLIC_API=1 and commit the diff.\n--- rendered ---\n{actual}");
    }

    [Fact]
    public void Render_ListsPublicMembersOnly()
    {
        string rendered = PublicApiRenderer.Render(typeof(SafeMem.Telemetry.SafeMemMetrics).Assembly);

        Assert.Contains("static class SafeMem.Telemetry.SafeMemMetrics", rendered);
        Assert.Contains("public const string MeterName = \"SafeMem\"", rendered);
        Assert.DoesNotContain("StripedCounter", rendered);
        Assert.DoesNotContain("ReadVersion", rendered);
    }

}
