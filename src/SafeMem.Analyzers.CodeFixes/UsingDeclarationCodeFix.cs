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
/// SM1005: <c>token.Register(...);</c> becomes <c>using var registration = token.Register(...);</c>.
/// SM1006: a <c>PeriodicTimer</c> kept in a local becomes a using declaration (its loop runs in
/// the method, so the method is its owner; other timers are meant to outlive the method, so no fix disposes them).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UsingDeclarationCodeFix))]
[Shared]
public sealed class UsingDeclarationCodeFix : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create("SM1005", "SM1006");

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return;
        }

        foreach (var diagnostic in context.Diagnostics)
        {
            var node = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true);
            if (diagnostic.Id == "SM1005" && node.FirstAncestorOrSelf<InvocationExpressionSyntax>() is { } invocation
                && invocation.Parent is ExpressionStatementSyntax or AssignmentExpressionSyntax { Parent: ExpressionStatementSyntax }
                && invocation.FirstAncestorOrSelf<ExpressionStatementSyntax>() is { } statement
                && SyntaxHelpers.CanHoldUsingDeclaration(statement))
            {
                context.RegisterCodeFix(
                    CodeAction.Create(
                        "Dispose the registration ('using var registration = ...')",
                        _ => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(statement, UsingRegistration(statement, invocation)))),
                        "SM1005.Using"),
                    diagnostic);
            }
            else if (diagnostic.Id == "SM1006" && node.FirstAncestorOrSelf<ObjectCreationExpressionSyntax>() is { } creation
                     && IsPeriodicTimer(creation)
                     && creation.Parent is EqualsValueClauseSyntax { Parent: VariableDeclaratorSyntax { Parent: VariableDeclarationSyntax { Variables.Count: 1, Parent: LocalDeclarationStatementSyntax declaration } } }
                     && declaration.UsingKeyword.IsKind(SyntaxKind.None)
                     && SyntaxHelpers.CanHoldUsingDeclaration(declaration))
            {
                context.RegisterCodeFix(
                    CodeAction.Create(
                        "Dispose the timer when the method ends ('using var')",
                        _ => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(declaration, UsingTimer(declaration)))),
                        "SM1006.Using"),
                    diagnostic);
            }
        }
    }

    // By syntax: the analyzer already knows the type; the fix only needs to tell PeriodicTimer from the other timers.
    private static bool IsPeriodicTimer(ObjectCreationExpressionSyntax creation)
        => creation.Type switch
        {
            QualifiedNameSyntax qualified => qualified.Right.Identifier.ValueText == "PeriodicTimer",
            SimpleNameSyntax simple => simple.Identifier.ValueText == "PeriodicTimer",
            _ => false,
        };

    private static StatementSyntax UsingRegistration(ExpressionStatementSyntax statement, InvocationExpressionSyntax invocation)
    {
        var scope = (SyntaxNode?)statement.FirstAncestorOrSelf<MemberDeclarationSyntax>() ?? statement.SyntaxTree.GetRoot();
        var name = SyntaxHelpers.UniqueName(scope, "registration");
        var declaration = SyntaxFactory.LocalDeclarationStatement(
                SyntaxFactory.VariableDeclaration(
                    SyntaxFactory.IdentifierName("var"),
                    SyntaxFactory.SingletonSeparatedList(
                        SyntaxFactory.VariableDeclarator(SyntaxFactory.Identifier(name))
                            .WithInitializer(SyntaxFactory.EqualsValueClause(invocation.WithoutTrivia())))))
            .WithUsingKeyword(SyntaxFactory.Token(SyntaxKind.UsingKeyword).WithTrailingTrivia(SyntaxFactory.Space))
            .WithTriviaFrom(statement)
            .WithAdditionalAnnotations(Formatter.Annotation);
        return declaration;
    }

    private static LocalDeclarationStatementSyntax UsingTimer(LocalDeclarationStatementSyntax declaration)
        => declaration
            .WithUsingKeyword(SyntaxFactory.Token(SyntaxKind.UsingKeyword).WithTrailingTrivia(SyntaxFactory.Space))
            .WithLeadingTrivia(declaration.GetLeadingTrivia())
            .WithDeclaration(declaration.Declaration.WithoutLeadingTrivia())
            .WithAdditionalAnnotations(Formatter.Annotation);
}
