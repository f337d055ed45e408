using System.Text.RegularExpressions;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Extensions.Hybrid.Tests.Docs;

/// <summary>docs/scaling-out.md's C# must be code that compiles: each line must appear in ScalingOutSnippets.cs.</summary>
public sealed partial class ScalingOutDocTests
{
    [Fact]
    public void ScalingOutCSharpBlocks_AppearInCompiledSnippets()
    {
        string page = File.ReadAllText(RepositoryPaths.Combine("docs", "scaling-out.md"));
        HashSet<string> compiled = File.ReadAllLines(RepositoryPaths.Combine("tests", "SafeMem.Extensions.Hybrid.Tests", "Docs", "ScalingOutSnippets.cs"))
            .Select(line => line.Trim())
            .ToHashSet(StringComparer.Ordinal);

        MatchCollection blocks = CSharpBlock().Matches(page);
        Assert.True(blocks.Count >= 2, "docs/scaling-out.md should show the plain and the recommended registration.");
        var missing = blocks
            .SelectMany(b => b.Groups["code"].Value.Split('\n'))
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !compiled.Contains(line))
            .ToList();

        Assert.True(missing.Count == 0, "docs/scaling-out.md lines not found in ScalingOutSnippets.cs:\n" + string.Join("\n", missing));
    }

    [Fact]
    public void CiInstallsRedisBeforeTheTests()
    {
        string[] ci = File.ReadAllLines(RepositoryPaths.Combine(".ci", "run"));
        int install = Array.FindIndex(ci, line => line.Trim() == "bash .ci/redis.sh");
        int tests = Array.FindIndex(ci, line => line.Contains("$test_command 2>&1", StringComparison.Ordinal));

        Assert.True(install >= 0, ".ci/run does not run .ci/redis.sh");
        Assert.True(install < tests, ".ci/run must install redis-server before it runs the tests");
        Assert.True(File.Exists(RepositoryPaths.Combine(".ci", "redis.sh")));
    }

    [GeneratedRegex("```csharp\\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();
}
