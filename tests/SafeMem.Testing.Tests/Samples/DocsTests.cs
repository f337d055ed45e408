using System.Text.RegularExpressions;

namespace SafeMem.Testing.Tests.Samples;

/// <summary>docs/testing.md's C# snippets must be code that compiles and runs: each line must appear in TestingSamples.cs.</summary>
public sealed partial class DocsTests
{
    [Fact]
    public void TestingGuideCSharpBlocks_AppearInCompiledSamples()
    {
        string root = FindRepositoryRoot();
        string guide = File.ReadAllText(Path.Combine(root, "docs", "testing.md"));
        HashSet<string> compiled = File.ReadAllLines(Path.Combine(root, "tests", "SafeMem.Testing.Tests", "Samples", "TestingSamples.cs"))
            .Select(line => line.Trim())
            .ToHashSet(StringComparer.Ordinal);

        MatchCollection blocks = CSharpBlock().Matches(guide);
        Assert.NotEmpty(blocks);
        var missing = blocks
            .SelectMany(b => b.Groups["code"].Value.Split('\n'))
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !compiled.Contains(line))
            .ToList();

        Assert.True(missing.Count == 0, "docs/testing.md lines not found in Samples/TestingSamples.cs:\n" + string.Join("\n", missing));
    }

    private static string FindRepositoryRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "SafeMem.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"SafeMem.sln not found above {AppContext.BaseDirectory}.");
    }

    [GeneratedRegex("```csharp\\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();
}
