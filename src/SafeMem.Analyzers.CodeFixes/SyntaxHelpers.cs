using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace SafeMem.Analyzers;

/// <summary>Small syntax helpers the fixes share.</summary>
internal static class SyntaxHelpers
{
    /// <summary>
    /// A name for a new local or field that no identifier in <paramref name="scope"/> uses (so it can clash neither with
    /// what is in scope now nor with a local declared later in a nested block).
    /// </summary>
    internal static string UniqueName(SyntaxNode scope, string preferred)
    {
        var used = new HashSet<string>(
            scope.DescendantTokens().Where(t => t.IsKind(SyntaxKind.IdentifierToken)).Select(t => t.ValueText),
            StringComparer.Ordinal);
        var name = preferred;
        for (var i = 2; used.Contains(name); i++)
        {
            name = preferred + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return name;
    }

    /// <summary>Whether a statement may become a using declaration where it stands (in a block or at top level, not in a switch section).</summary>
    internal static bool CanHoldUsingDeclaration(StatementSyntax statement)
        => statement.Parent is BlockSyntax or GlobalStatementSyntax
           && ((CSharpParseOptions)statement.SyntaxTree.Options).LanguageVersion >= LanguageVersion.CSharp8;

    /// <summary>Adds <c>using <paramref name="ns"/>;</c> to the file unless it already has it.</summary>
    internal static CompilationUnitSyntax WithUsing(CompilationUnitSyntax unit, string ns)
    {
        if (unit.Usings.Any(u => u.Name?.ToString() == ns)
            || unit.Members.OfType<BaseNamespaceDeclarationSyntax>().Any(n => n.Usings.Any(u => u.Name?.ToString() == ns)))
        {
            return unit;
        }

        var directive = SyntaxFactory.UsingDirective(SyntaxFactory.ParseName(ns)).WithTrailingTrivia(SyntaxFactory.ElasticCarriageReturnLineFeed);
        return unit.WithUsings(unit.Usings.Add(directive));
    }

    /// <summary>The text of a C# identifier in camel case (<c>PriceChanged</c> to <c>priceChanged</c>).</summary>
    internal static string Camel(string name)
        => name.Length == 0 ? name : char.ToLowerInvariant(name[0]) + name.Substring(1);
}
