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
/// SM1004: moves a block created per call into a <c>private static readonly</c> field of the class, created once.
/// Offered only when the creation uses nothing of the call (no local, parameter, <c>this</c>, instance member or method
/// type parameter), so that the field's initializer compiles and means the same.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(StaticBlockCodeFix))]
[Shared]
public sealed class StaticBlockCodeFix : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create("SM1004");

    /// <inheritdoc/>
    public override FixAllProvider? GetFixAllProvider() => null;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null || model is null)
        {
            return;
        }

        var diagnostic = context.Diagnostics[0];
        if (root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true).FirstAncestorOrSelf<BaseObjectCreationExpressionSyntax>() is not { } creation
            || creation.Parent is not EqualsValueClauseSyntax { Parent: VariableDeclaratorSyntax { Parent: VariableDeclarationSyntax { Variables.Count: 1, Parent: LocalDeclarationStatementSyntax statement } } declarator }
            || statement.Parent is not BlockSyntax
            || statement.FirstAncestorOrSelf<TypeDeclarationSyntax>() is not { } type
            || type is InterfaceDeclarationSyntax
            || statement.FirstAncestorOrSelf<MemberDeclarationSyntax>() is not { } member
            || model.GetDeclaredSymbol(declarator, context.CancellationToken) is not ILocalSymbol local
            || model.GetTypeInfo(creation, context.CancellationToken).Type is not INamedTypeSymbol createdType
            || !UsesNothingOfTheCall(creation, model, context.CancellationToken)
            || IsReassigned(member, local, model, context.CancellationToken))
        {
            return;
        }

        context.RegisterCodeFix(
            CodeAction.Create(
                "Create it once, in a static readonly field",
                _ => Task.FromResult(context.Document.WithSyntaxRoot(Move(root, model, type, member, statement, creation, local, createdType))),
                "SM1004.StaticField"),
            diagnostic);
    }

    private static bool UsesNothingOfTheCall(SyntaxNode creation, SemanticModel model, CancellationToken cancellationToken)
    {
        foreach (var node in creation.DescendantNodesAndSelf())
        {
            if (node is ThisExpressionSyntax or BaseExpressionSyntax)
            {
                return false;
            }

            // Names that are not reads: a member an object initializer sets, a named argument.
            if (node is not SimpleNameSyntax name
                || name.Parent is NameColonSyntax
                || (name.Parent is AssignmentExpressionSyntax { Parent: InitializerExpressionSyntax } set && set.Left == name))
            {
                continue;
            }

            var symbol = model.GetSymbolInfo(name, cancellationToken).Symbol;
            if (symbol is ILocalSymbol or IParameterSymbol or IRangeVariableSymbol or ITypeParameterSymbol { TypeParameterKind: TypeParameterKind.Method })
            {
                return false;
            }

            // An instance member reached without a receiver is reached through 'this'.
            if (symbol is IFieldSymbol or IPropertySymbol or IEventSymbol or IMethodSymbol { MethodKind: not MethodKind.Constructor }
                && !symbol.IsStatic
                && !(name.Parent is MemberAccessExpressionSyntax access && access.Name == name))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsReassigned(SyntaxNode member, ILocalSymbol local, SemanticModel model, CancellationToken cancellationToken)
        => member.DescendantNodes().OfType<AssignmentExpressionSyntax>().Any(a =>
               SymbolEqualityComparer.Default.Equals(model.GetSymbolInfo(a.Left, cancellationToken).Symbol, local))
           || member.DescendantNodes().OfType<ArgumentSyntax>().Any(a =>
               !a.RefKindKeyword.IsKind(SyntaxKind.None) && SymbolEqualityComparer.Default.Equals(model.GetSymbolInfo(a.Expression, cancellationToken).Symbol, local));

    private static SyntaxNode Move(
        SyntaxNode root, SemanticModel model, TypeDeclarationSyntax type, MemberDeclarationSyntax member, LocalDeclarationStatementSyntax statement,
        BaseObjectCreationExpressionSyntax creation, ILocalSymbol local, INamedTypeSymbol createdType)
    {
        var fieldName = SyntaxHelpers.UniqueName(type, "s_" + SyntaxHelpers.Camel(local.Name.TrimStart('_')));
        var typeSyntax = SyntaxFactory.ParseTypeName(createdType.ToMinimalDisplayString(model, type.SpanStart));
        var references = member.DescendantNodes().OfType<IdentifierNameSyntax>()
            .Where(n => n.Identifier.ValueText == local.Name && SymbolEqualityComparer.Default.Equals(model.GetSymbolInfo(n).Symbol, local))
            .ToList();

        var removed = new SyntaxAnnotation();
        var newMember = member.ReplaceNodes(
            references.Cast<SyntaxNode>().Append(statement),
            (original, rewritten) => original == statement
                ? rewritten.WithAdditionalAnnotations(removed)
                : SyntaxFactory.IdentifierName(fieldName).WithTriviaFrom(rewritten));
        newMember = newMember.RemoveNode(newMember.GetAnnotatedNodes(removed).First(), SyntaxRemoveOptions.KeepNoTrivia)!;

        var field = SyntaxFactory.FieldDeclaration(
                SyntaxFactory.VariableDeclaration(
                    typeSyntax,
                    SyntaxFactory.SingletonSeparatedList(
                        SyntaxFactory.VariableDeclarator(fieldName).WithInitializer(SyntaxFactory.EqualsValueClause(creation.WithoutTrivia())))))
            .WithModifiers(SyntaxFactory.TokenList(
                SyntaxFactory.Token(SyntaxKind.PrivateKeyword),
                SyntaxFactory.Token(SyntaxKind.StaticKeyword),
                SyntaxFactory.Token(SyntaxKind.ReadOnlyKeyword)))
            .WithAdditionalAnnotations(Formatter.Annotation);

        var newType = type.ReplaceNode(member, newMember);
        var insertAt = newType.Members.TakeWhile(m => m is FieldDeclarationSyntax).Count();
        newType = newType.WithMembers(newType.Members.Insert(insertAt, field));
        return root.ReplaceNode(type, newType);
    }
}
