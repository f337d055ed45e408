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
/// SM1003: where the class subscribes the same lambda (the same text) to the same event, keeps the subscribed delegate
/// in a field (<c>source.E += _eHandler = (s, e) => ...;</c>) and removes that (<c>source.E -= _eHandler;</c>).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(KeepDelegateCodeFix))]
[Shared]
public sealed class KeepDelegateCodeFix : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create("SM1003");

    /// <inheritdoc/>
    public override FixAllProvider? GetFixAllProvider() => null;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        var diagnostic = context.Diagnostics[0];
        if (root is null || model is null
            || root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true).FirstAncestorOrSelf<AnonymousFunctionExpressionSyntax>() is not { } lambda
            || lambda.FirstAncestorOrSelf<AssignmentExpressionSyntax>() is not { } remove
            || !remove.IsKind(SyntaxKind.SubtractAssignmentExpression)
            || remove.Right != lambda
            || model.GetSymbolInfo(remove.Left, context.CancellationToken).Symbol is not IEventSymbol @event
            || remove.FirstAncestorOrSelf<ClassDeclarationSyntax>() is not { } type)
        {
            return;
        }

        var add = type.DescendantNodes().OfType<AssignmentExpressionSyntax>().FirstOrDefault(a =>
            a.IsKind(SyntaxKind.AddAssignmentExpression)
            && a.Right is AnonymousFunctionExpressionSyntax added
            && SyntaxFactory.AreEquivalent(added, lambda)
            && SymbolEqualityComparer.Default.Equals(model.GetSymbolInfo(a.Left, context.CancellationToken).Symbol, @event));
        if (add is null)
        {
            return;
        }

        var addIsStatic = IsInStaticMember(add);
        if (IsInStaticMember(remove) && !addIsStatic)
        {
            return;
        }

        context.RegisterCodeFix(
            CodeAction.Create(
                "Keep the subscribed delegate in a field and remove that",
                _ => Task.FromResult(context.Document.WithSyntaxRoot(Rewrite(root, model, type, add, remove, @event, addIsStatic))),
                "SM1003.Field"),
            diagnostic);
    }

    private static bool IsInStaticMember(SyntaxNode node)
        => node.FirstAncestorOrSelf<MemberDeclarationSyntax>() is { } member
           && member.Modifiers.Any(SyntaxKind.StaticKeyword);

    private static SyntaxNode Rewrite(
        SyntaxNode root, SemanticModel model, ClassDeclarationSyntax type, AssignmentExpressionSyntax add, AssignmentExpressionSyntax remove, IEventSymbol @event, bool isStatic)
    {
        var name = SyntaxHelpers.UniqueName(type, (isStatic ? "s_" : "_") + SyntaxHelpers.Camel(@event.Name) + "Handler");
        var nullable = model.GetNullableContext(type.SpanStart).AnnotationsEnabled();
        var typeName = @event.Type.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToMinimalDisplayString(model, type.SpanStart) + (nullable ? "?" : string.Empty);
        var modifiers = isStatic ? "private static " : "private ";
        var field = ((FieldDeclarationSyntax)SyntaxFactory.ParseMemberDeclaration($"{modifiers}{typeName} {name};")!)
            .WithTrailingTrivia(SyntaxFactory.ElasticCarriageReturnLineFeed)
            .WithAdditionalAnnotations(Formatter.Annotation);

        var newType = type.ReplaceNodes(
            new SyntaxNode[] { add.Right, remove.Right },
            (original, rewritten) => original == add.Right
                ? SyntaxFactory.AssignmentExpression(SyntaxKind.SimpleAssignmentExpression, SyntaxFactory.IdentifierName(name), (ExpressionSyntax)rewritten.WithoutTrivia()).WithTriviaFrom(rewritten)
                : SyntaxFactory.IdentifierName(name).WithTriviaFrom(rewritten));
        var insertAt = newType.Members.TakeWhile(m => m is FieldDeclarationSyntax).Count();
        newType = newType.WithMembers(newType.Members.Insert(insertAt, field));
        return root.ReplaceNode(type, newType);
    }
}
