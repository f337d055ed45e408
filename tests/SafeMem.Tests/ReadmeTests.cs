using System.Text.RegularExpressions;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests;

/// <summary>README's C# snippets must be code that compiles: each line must appear in the demo's ReadmeSnippets.cs.</summary>
public sealed partial class ReadmeTests
{
    [Fact]
    public void ReadmeCSharpBlocks_AppearInCompiledSnippets()
    {
        string readme = File.ReadAllText(RepositoryPaths.Combine("README.md"));
        HashSet<string> compiled = File.ReadAllLines(RepositoryPaths.Combine("src", "SafeMem.Demo", "ReadmeSnippets.cs"))
            .Select(Normalize)
            .ToHashSet(StringComparer.Ordinal);

        MatchCollection blocks = CSharpBlock().Matches(readme);
        Assert.NotEmpty(blocks);
        var missing = blocks
            .SelectMany(b => b.Groups["code"].Value.Split('\n'))
            .Select(Normalize)
            .Where(line => line.Length > 0 && !compiled.Contains(line))
            .ToList();

        Assert.True(missing.Count == 0, "README lines not found in src/SafeMem.Demo/ReadmeSnippets.cs:\n" + string.Join("\n", missing));
    }

    [Fact]
    public void Readme_GivesTheCommandsCiRuns()
    {
        string[] readme = File.ReadAllLines(RepositoryPaths.Combine("README.md"));
        string ci = File.ReadAllText(RepositoryPaths.Combine(".ci", "run"));

        foreach (string command in new[] { "dotnet run --project src/SafeMem.Demo", "dotnet test SafeMem.sln -c Release" })
        {
            Assert.Contains(command, readme);
            Assert.Contains($"'{command}'", ci);
        }
    }

    private static string Normalize(string line) => line.Trim();


    [GeneratedRegex("```csharp\\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();
}
