using System.Text.RegularExpressions;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Disposal;

/// <summary>docs/disposal.md's C# snippets must be code that compiles: each line must appear in the demo's DisposalSnippets.cs.</summary>
public sealed partial class DisposalDocsTests
{
    [Fact]
    public void DisposalPageCSharpBlocks_AppearInCompiledSnippets()
    {
        string page = File.ReadAllText(RepositoryPaths.Combine("docs", "disposal.md"));
        HashSet<string> compiled = File.ReadAllLines(RepositoryPaths.Combine("src", "SafeMem.Demo", "DisposalSnippets.cs"))
            .Select(line => line.Trim())
            .ToHashSet(StringComparer.Ordinal);

        MatchCollection blocks = CSharpBlock().Matches(page);
        Assert.True(blocks.Count >= 5);
        var missing = blocks
            .SelectMany(b => b.Groups["code"].Value.Split('\n'))
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !compiled.Contains(line))
            .ToList();

        Assert.True(missing.Count == 0, "docs/disposal.md lines not found in src/SafeMem.Demo/DisposalSnippets.cs:\n" + string.Join("\n", missing));
    }

    [GeneratedRegex("```csharp\\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();
}
