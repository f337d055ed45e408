using System.Collections.Immutable;
using System.Composition;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Formatting;

namespace SafeMem.Analyzers;

/// <summary>
/// SM1001, for a private static dictionary used as a cache: makes it a <c>BoundedCache&lt;TKey, TValue&gt;</c> with a
/// count bound to fill in. Offered only when SafeMem is referenced, the dictionary is created empty and every use maps
/// onto the cache's API (<c>GetOrAdd</c> with a factory, <c>TryGetValue</c>, an indexer or <c>Add</c> store,
/// <c>ContainsKey</c>, <c>Count</c>), so that the result compiles and means what it meant, with a bound.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(BoundedCacheCodeFix))]
[Shared]
public sealed class BoundedCacheCodeFix : CodeFixProvider
{
    internal const int DefaultBound = 1_000;

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create("SM1001");

    /// <inheritdoc/>
    public override FixAllProvider? GetFixAllProvider() => null;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var diagnostic = context.Diagnostics[0];
        if (!diagnostic.Properties.TryGetValue(Descriptors.UsedAsCacheProperty, out var cache) || cache != "true"
            || !diagnostic.Properties.TryGetValue(Descriptors.SafeMemReferencedProperty, out var referenced) || referenced != "true")
        {
            return;
        }

        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null || model is null
            || root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true).FirstAncestorOrSelf<VariableDeclaratorSyntax>() is not { } declarator
            || declarator.Parent is not VariableDeclarationSyntax { Variables.Count: 1, Parent: FieldDeclarationSyntax field } declaration
            || model.GetDeclaredSymbol(declarator, context.CancellationToken) is not IFieldSymbol { DeclaredAccessibility: Accessibility.Private } symbol
            || symbol.ContainingType.DeclaringSyntaxReferences.Length != 1
            || symbol.Type is not INamedTypeSymbol { TypeArguments.Length: 2 } dictionary
            || dictionary.Name is not ("Dictionary" or "ConcurrentDictionary")
            || declarator.Initializer?.Value is not BaseObjectCreationExpressionSyntax { ArgumentList: null or { Arguments.Count: 0 }, Initializer: null }
            || field.FirstAncestorOrSelf<TypeDeclarationSyntax>() is not { } type)
        {
            return;
        }

        var uses = new List<(SyntaxNode Old, SyntaxNode New)>();
        foreach (var name in type.DescendantNodes().OfType<IdentifierNameSyntax>())
        {
            if (name.Identifier.ValueText != symbol.Name
                || !SymbolEqualityComparer.Default.Equals(model.GetSymbolInfo(name, context.CancellationToken).Symbol, symbol))
            {
                continue;
            }

            if (Rewrite(name, model, context.CancellationToken) is not { } use)
            {
                return;
            }

            uses.Add(use);
        }

        context.RegisterCodeFix(
            CodeAction.Create(
                "Make it a BoundedCache",
                _ => Task.FromResult(context.Document.WithSyntaxRoot(Apply(root, model, field, declaration, declarator, dictionary, uses))),
                "SM1001.BoundedCache"),
            diagnostic);
    }

    // One use of the field, rewritten onto BoundedCache's API; null when it has no equivalent.
    private static (SyntaxNode Old, SyntaxNode New)? Rewrite(IdentifierNameSyntax name, SemanticModel model, CancellationToken cancellationToken)
    {
        SyntaxNode reference = name.Parent is MemberAccessExpressionSyntax qualified && qualified.Name == name ? qualified : name;
        switch (reference.Parent)
        {
            case MemberAccessExpressionSyntax { Parent: InvocationExpressionSyntax invocation } access when access.Expression == reference:
                var method = access.Name.Identifier.ValueText;
                var arguments = invocation.ArgumentList.Arguments;
                switch (method)
                {
                    case "GetOrAdd" when arguments.Count is 2 or 3
                                         && model.GetTypeInfo(arguments[1].Expression, cancellationToken).ConvertedType is INamedTypeSymbol { TypeKind: TypeKind.Delegate }:
                    case "ContainsKey":
                        return (invocation, invocation);
                    case "TryGetValue":
                        return (access.Name, SyntaxFactory.IdentifierName("TryGet").WithTriviaFrom(access.Name));
                    case "Add" or "TryAdd" when ValueUnused(invocation) && arguments.Count == 2:
                        return (access.Name, SyntaxFactory.IdentifierName("Set").WithTriviaFrom(access.Name));
                    default:
                        return null;
                }

            case MemberAccessExpressionSyntax { Name.Identifier.ValueText: "Count" } access when access.Expression == reference:
                return (access, access);
            case ElementAccessExpressionSyntax { Parent: AssignmentExpressionSyntax store } element
                when element.Expression == reference && store.Left == element && store.IsKind(SyntaxKind.SimpleAssignmentExpression) && ValueUnused(store)
                     && element.ArgumentList.Arguments.Count == 1:
                var set = SyntaxFactory.InvocationExpression(
                    SyntaxFactory.MemberAccessExpression(SyntaxKind.SimpleMemberAccessExpression, element.Expression.WithoutTrivia(), SyntaxFactory.IdentifierName("Set")),
                    SyntaxFactory.ArgumentList(SyntaxFactory.SeparatedList(new[] { element.ArgumentList.Arguments[0], SyntaxFactory.Argument(store.Right.WithoutTrivia()) })));
                return (store, set.WithTriviaFrom(store));
            default:
                return null;
        }
    }

    // A store whose result nobody reads: a statement, or the body of a void method written with =>.
    private static bool ValueUnused(ExpressionSyntax expression)
        => expression.Parent is ExpressionStatementSyntax
           || (expression.Parent is ArrowExpressionClauseSyntax { Parent: MethodDeclarationSyntax { ReturnType: PredefinedTypeSyntax returnType } }
               && returnType.Keyword.IsKind(SyntaxKind.VoidKeyword));

    private static SyntaxNode Apply(
        SyntaxNode root, SemanticModel model, FieldDeclarationSyntax field, VariableDeclarationSyntax declaration, VariableDeclaratorSyntax declarator,
        INamedTypeSymbol dictionary, List<(SyntaxNode Old, SyntaxNode New)> uses)
    {
        var position = field.SpanStart;
        var key = dictionary.TypeArguments[0].ToMinimalDisplayString(model, position);
        var value = dictionary.TypeArguments[1].ToMinimalDisplayString(model, position);
        var name = declarator.Identifier.ValueText.TrimStart('_');
        if (name.StartsWith("s_", StringComparison.Ordinal))
        {
            name = name.Substring(2);
        }

        var typeSyntax = SyntaxFactory.ParseTypeName($"BoundedCache<{key}, {value}>").WithTriviaFrom(declaration.Type);
        var initializer = SyntaxFactory.ParseExpression(
            $"new(new BoundedCacheOptions<{key}, {value}> {{ Name = \"{name}\", MaximumCount = {DefaultBound} /* the most entries this cache keeps: choose */ }})");
        var newDeclaration = declaration
            .WithType(typeSyntax)
            .WithVariables(SyntaxFactory.SingletonSeparatedList(declarator.WithInitializer(SyntaxFactory.EqualsValueClause(initializer))));

        var replacements = uses.Where(u => u.Old != u.New).ToDictionary(u => u.Old, u => u.New);
        var newRoot = root.ReplaceNodes(
            replacements.Keys.Append(declaration),
            (original, rewritten) => original == declaration ? newDeclaration.WithAdditionalAnnotations(Formatter.Annotation) : replacements[original]);
        return SyntaxHelpers.WithUsing((CompilationUnitSyntax)newRoot, "SafeMem.Caching");
    }
}
