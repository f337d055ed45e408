using System.Text.RegularExpressions;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests;

/// <summary>
/// The C# shown in each page of docs/ is code that compiles: every line of the page's C# blocks must appear in the
/// page's snippets file in src/SafeMem.Demo/DocSnippets (compiled with the demo). A new page joins with one row here.
/// </summary>
public sealed partial class DocsTests
{
    [Theory]
    [InlineData("caching.md", "CachingSnippets.cs")]
    [InlineData("events.md", "EventsSnippets.cs")]
    [InlineData("attachments.md", "AttachmentsSnippets.cs")]
    [InlineData("registries.md", "RegistriesSnippets.cs")]
    [InlineData("production.md", "ProductionSnippets.cs")]
    [InlineData("leak-watcher.md", "LeakWatcherSnippets.cs")]
    public void DocCSharpBlocks_AppearInCompiledSnippets(string page, string snippets)
    {
        string markdown = File.ReadAllText(RepositoryPaths.Combine("docs", page));
        HashSet<string> compiled = File.ReadAllLines(RepositoryPaths.Combine("src", "SafeMem.Demo", "DocSnippets", snippets))
            .Select(line => line.Trim())
            .ToHashSet(StringComparer.Ordinal);

        MatchCollection blocks = CSharpBlock().Matches(markdown);
        Assert.NotEmpty(blocks);
        var missing = blocks
            .SelectMany(b => b.Groups["code"].Value.Split('\n'))
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !compiled.Contains(line))
            .ToList();

        Assert.True(missing.Count == 0, $"docs/{page} lines not found in {snippets}:\n" + string.Join("\n", missing));
    }

    [Fact]
    public void ReadmeLinks_ToDocsPages_Exist()
    {
        string readme = File.ReadAllText(RepositoryPaths.Combine("README.md"));
        var broken = DocsLink().Matches(readme)
            .Select(m => m.Groups["page"].Value)
            .Distinct()
            .Where(page => !File.Exists(RepositoryPaths.Combine("docs", page)))
            .ToList();

        Assert.Empty(broken);
    }

    [GeneratedRegex("```csharp\\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();

    [GeneratedRegex(@"\]\(docs/(?<page>[a-z0-9-]+\.(md|png))\)")]
    private static partial Regex DocsLink();
}
