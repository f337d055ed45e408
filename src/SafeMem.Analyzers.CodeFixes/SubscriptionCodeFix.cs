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
/// SM1002, two fixes where they apply. "Remove the handler in Dispose": for a method handler on a static event or on an
/// event of a field or property, the matching <c>-=</c> at the end of the class's <c>Dispose()</c>. "Subscribe weakly":
/// for a method handler of an instance event whose delegate is <c>(object, TEventArgs)</c> (or a static event), a
/// <c>WeakEventSubscription.Subscribe</c> call, when the project references SafeMem.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(SubscriptionCodeFix))]
[Shared]
public sealed class SubscriptionCodeFix : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create("SM1002");

    /// <inheritdoc/>
    public override FixAllProvider? GetFixAllProvider() => null;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        var diagnostic = context.Diagnostics[0];
        if (root is null || model is null
            || root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true).FirstAncestorOrSelf<AssignmentExpressionSyntax>() is not { } add
            || !add.IsKind(SyntaxKind.AddAssignmentExpression)
            || add.Parent is not ExpressionStatementSyntax statement
            || !diagnostic.Properties.TryGetValue(EventSubscriptionAnalyzer.HandlerKindProperty, out var handlerKind) || handlerKind != "Method"
            || model.GetSymbolInfo(add.Left, context.CancellationToken).Symbol is not IEventSymbol @event
            || model.GetSymbolInfo(add.Right, context.CancellationToken).Symbol is not IMethodSymbol { IsStatic: false, MethodKind: MethodKind.Ordinary } handler
            || add.FirstAncestorOrSelf<ClassDeclarationSyntax>() is not { } type)
        {
            return;
        }

        diagnostic.Properties.TryGetValue(EventSubscriptionAnalyzer.SourceKindProperty, out var sourceKind);
        var dispose = type.Members.OfType<MethodDeclarationSyntax>().FirstOrDefault(m =>
            m.Identifier.ValueText == "Dispose" && m.ParameterList.Parameters.Count == 0 && m.Body is not null
            && !m.Modifiers.Any(SyntaxKind.StaticKeyword));
        if (dispose is not null && sourceKind is "Static" or "ThisMember" or "StaticMember")
        {
            context.RegisterCodeFix(
                CodeAction.Create(
                    "Remove the handler in Dispose",
                    _ => Task.FromResult(context.Document.WithSyntaxRoot(RemoveInDispose(root, dispose, add))),
                    "SM1002.Dispose"),
                diagnostic);
        }

        if (diagnostic.Properties.TryGetValue(Descriptors.SafeMemReferencedProperty, out var referenced) && referenced == "true"
            && WeakForm(@event, handler, model, add) is { } weak)
        {
            context.RegisterCodeFix(
                CodeAction.Create(
                    "Subscribe weakly (WeakEventSubscription)",
                    _ =>
                    {
                        var newRoot = root.ReplaceNode(statement, SyntaxFactory.ExpressionStatement(weak).WithTriviaFrom(statement).WithAdditionalAnnotations(Formatter.Annotation));
                        return Task.FromResult(context.Document.WithSyntaxRoot(SyntaxHelpers.WithUsing((CompilationUnitSyntax)newRoot, "SafeMem.Events")));
                    },
                    "SM1002.Weak"),
                diagnostic);
        }
    }

    private static SyntaxNode RemoveInDispose(SyntaxNode root, MethodDeclarationSyntax dispose, AssignmentExpressionSyntax add)
    {
        var removal = SyntaxFactory.ExpressionStatement(
                SyntaxFactory.AssignmentExpression(SyntaxKind.SubtractAssignmentExpression, add.Left.WithoutTrivia(), add.Right.WithoutTrivia()))
            .WithAdditionalAnnotations(Formatter.Annotation);
        return root.ReplaceNode(dispose.Body!, dispose.Body!.AddStatements(removal));
    }

    // WeakEventSubscription.Subscribe<TSource, TSubscriber, TEventArgs>(source, this, static (s, h) => s.E += h,
    //     static (s, h) => s.E -= h, static (self, sender, e) => self.Handler(sender!, e))
    private static InvocationExpressionSyntax? WeakForm(IEventSymbol @event, IMethodSymbol handler, SemanticModel model, AssignmentExpressionSyntax add)
    {
        if (@event.Type is not INamedTypeSymbol { DelegateInvokeMethod: { ReturnsVoid: true, Parameters.Length: 2 } invoke } delegateType
            || invoke.Parameters[0].Type.SpecialType != SpecialType.System_Object
            || handler.Parameters.Length != 2
            || model.GetEnclosingSymbol(add.SpanStart)?.ContainingType is not { } subscriber)
        {
            return null;
        }

        var position = add.SpanStart;
        string Name(ITypeSymbol type) => type.ToMinimalDisplayString(model, position);
        var args = invoke.Parameters[1].Type;
        var isGenericHandler = delegateType.OriginalDefinition.ToDisplayString() == "System.EventHandler<TEventArgs>";
        var h = isGenericHandler ? "h" : "h.Invoke";
        var call = handler.Name + "(sender!, e)";
        string text;
        if (@event.IsStatic)
        {
            var source = Name(@event.ContainingType) + "." + @event.Name;
            text = $"WeakEventSubscription.Subscribe<{Name(subscriber)}, {Name(args)}>(this, static h => {source} += {h}, static h => {source} -= {h}, static (self, sender, e) => self.{call})";
        }
        else
        {
            if (add.Left is not MemberAccessExpressionSyntax access)
            {
                return null;
            }

            text = $"WeakEventSubscription.Subscribe<{Name(@event.ContainingType)}, {Name(subscriber)}, {Name(args)}>({access.Expression.WithoutTrivia()}, this, "
                   + $"static (s, h) => s.{@event.Name} += {h}, static (s, h) => s.{@event.Name} -= {h}, static (self, sender, e) => self.{call})";
        }

        return SyntaxFactory.ParseExpression(text) as InvocationExpressionSyntax;
    }
}
