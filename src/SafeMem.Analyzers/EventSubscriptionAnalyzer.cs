using System.Collections.Concurrent;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using SafeMem.Analyzers.Ownership;

namespace SafeMem.Analyzers;

/// <summary>
/// SM1002 (a subscription that outlives its subscriber) and SM1003 (<c>-=</c> of a new lambda or anonymous method).
/// </summary>
/// <remarks>
/// SM1002 needs the whole class (partial declarations included) before it can say that a handler is never removed or
/// that a field only ever holds objects the class creates: it collects per class, between a symbol start and end, and
/// decides at the end. Generated code is analyzed (a generated partial's <c>-=</c> counts) but never reported on.
/// Thread-safe: a class's facts are gathered in concurrent collections.
/// </remarks>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class EventSubscriptionAnalyzer : DiagnosticAnalyzer
{
    internal const string HandlerKindProperty = "HandlerKind";
    internal const string SourceKindProperty = "SourceKind";

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        Descriptors.SubscriptionOutlivesSubscriber,
        Descriptors.UnsubscribeNewDelegate);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.Analyze);
        context.EnableConcurrentExecution();
        context.RegisterOperationAction(AnalyzeRemoval, OperationKind.EventAssignment);
        context.RegisterCompilationStartAction(static start =>
        {
            var safeMemReferenced = start.Compilation.GetTypeByMetadataName("SafeMem.Events.WeakEventSubscription") is not null;
            start.RegisterSymbolStartAction(
                typeStart =>
                {
                    // A class whose text has no '+=' subscribes to nothing: no per-class actions for it (most classes).
                    if (typeStart.Symbol is not INamedTypeSymbol { TypeKind: TypeKind.Class } type
                        || !type.DeclaringSyntaxReferences.Any(r => r.GetSyntax(typeStart.CancellationToken).DescendantTokens().Any(t => t.IsKind(SyntaxKind.PlusEqualsToken))))
                    {
                        return;
                    }

                    // Only event assignments are collected as operations: what a class assigns to its own fields is
                    // read from its syntax at the end, and only for the rare class that subscribes to an event of one
                    // (a callback on every assignment and argument of the compilation cost most of the analyzer's time).
                    var state = new ClassFacts(type);
                    typeStart.RegisterOperationAction(state.OnEventAssignment, OperationKind.EventAssignment);
                    typeStart.RegisterOperationBlockAction(state.OnBlock);
                    typeStart.RegisterSymbolEndAction(end => state.Report(end, safeMemReferenced));
                },
                SymbolKind.NamedType);
        });
    }

    private static void AnalyzeRemoval(OperationAnalysisContext context)
    {
        var assignment = (IEventAssignmentOperation)context.Operation;
        if (assignment.Adds)
        {
            return;
        }

        var handler = OwnershipModel.SkipConversionsDown(assignment.HandlerValue);
        if (handler is IDelegateCreationOperation creation)
        {
            handler = OwnershipModel.SkipConversionsDown(creation.Target);
        }

        if (handler is IAnonymousFunctionOperation function)
        {
            var kind = function.Syntax is Microsoft.CodeAnalysis.CSharp.Syntax.AnonymousMethodExpressionSyntax ? "anonymous method" : "lambda";
            context.ReportDiagnostic(Diagnostic.Create(Descriptors.UnsubscribeNewDelegate, function.Syntax.GetLocation(), kind));
        }
    }

    /// <summary>What a handler is and whether it keeps the subscriber (<c>this</c>) alive.</summary>
    internal static (ISymbol? Key, bool BoundToThis, string Kind) DescribeHandler(IOperation? handlerValue, IOperation root, int depth = 0)
    {
        var handler = OwnershipModel.SkipConversionsDown(handlerValue);
        if (handler is IDelegateCreationOperation creation)
        {
            handler = OwnershipModel.SkipConversionsDown(creation.Target);
        }

        switch (handler)
        {
            case IMethodReferenceOperation reference when reference.Method.MethodKind == MethodKind.LocalFunction:
                var body = root.Descendants().OfType<ILocalFunctionOperation>()
                    .FirstOrDefault(f => SymbolEqualityComparer.Default.Equals(f.Symbol, reference.Method.OriginalDefinition));
                return (reference.Method.OriginalDefinition, body is not null && ReferencesThis(body), "Method");
            case IMethodReferenceOperation reference:
                return (reference.Method.OriginalDefinition,
                    !reference.Method.IsStatic && OwnershipModel.SkipConversionsDown(reference.Instance) is IInstanceReferenceOperation,
                    "Method");
            case IAnonymousFunctionOperation function:
                return (null, ReferencesThis(function), "Lambda");
            case ISimpleAssignmentOperation assignment:
                var stored = SymbolOf(assignment.Target);
                var (_, bound, _) = DescribeHandler(assignment.Value, root, depth + 1);
                return (stored, bound, "Variable");
            case IFieldReferenceOperation or IPropertyReferenceOperation:
                var member = ((IMemberReferenceOperation)handler).Member;
                return (member.OriginalDefinition, !member.IsStatic, "Variable");
            case ILocalReferenceOperation local when depth < 4:
                var localBound = OwnershipModel.ValuesAssignedTo(local.Local, root).Any(v => DescribeHandler(v, root, depth + 1).BoundToThis);
                return (local.Local, localBound, "Variable");
            case IParameterReferenceOperation parameter:
                return (parameter.Parameter, false, "Variable");
            default:
                return (null, false, "Other");
        }
    }

    private static ISymbol? SymbolOf(IOperation? operation) => OwnershipModel.SkipConversionsDown(operation) switch
    {
        ILocalReferenceOperation local => local.Local,
        IMemberReferenceOperation member => member.Member.OriginalDefinition,
        IParameterReferenceOperation parameter => parameter.Parameter,
        _ => null,
    };

    // An event whose add accessor hands the handler to a SafeMem weak event source does not root its subscribers. Read
    // from the event's declaration in this compilation (syntax and the declaring type's field types: no semantic model).
    private static bool IsWeakEvent(IEventSymbol @event)
    {
        foreach (var reference in @event.OriginalDefinition.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax() is not Microsoft.CodeAnalysis.CSharp.Syntax.EventDeclarationSyntax { AccessorList: { } accessors })
            {
                continue;
            }

            var add = accessors.Accessors.FirstOrDefault(a => a.Keyword.ValueText == "add");
            if (add is null)
            {
                continue;
            }

            var names = new HashSet<string>(
                add.DescendantNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.IdentifierNameSyntax>().Select(n => n.Identifier.ValueText),
                StringComparer.Ordinal);
            foreach (var member in @event.ContainingType.GetMembers())
            {
                var type = member switch
                {
                    IFieldSymbol field => field.Type,
                    IPropertySymbol property => property.Type,
                    _ => null,
                };
                if (type is not null && names.Contains(member.Name)
                    && type.ContainingNamespace?.ToDisplayString() == "SafeMem.Events"
                    && type.Name is "WeakEventSource" or "AsyncWeakEventSource")
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static bool ReferencesThis(IOperation operation)
        => operation.Descendants().Any(o => o is IInstanceReferenceOperation { ReferenceKind: InstanceReferenceKind.ContainingTypeInstance });

    /// <summary>What one class does with events and with its own fields and properties.</summary>
    private sealed class ClassFacts(INamedTypeSymbol type)
    {
        private readonly ConcurrentBag<(IEventAssignmentOperation Add, IOperation Root, ISymbol Member)> _adds = new();
        private readonly ConcurrentDictionary<(string Event, ISymbol Handler), bool> _removals = new();

        // The class's member bodies, read only for a subscription that would otherwise be reported (the ownership
        // signals below): keeping the trees costs no callback per operation.
        private readonly ConcurrentBag<IOperation> _blocks = new();

        internal void OnBlock(OperationBlockAnalysisContext context)
        {
            if (SymbolEqualityComparer.Default.Equals(context.OwningSymbol.ContainingType, type))
            {
                foreach (var block in context.OperationBlocks)
                {
                    _blocks.Add(block);
                }
            }
        }

        internal void OnEventAssignment(OperationAnalysisContext context)
        {
            var assignment = (IEventAssignmentOperation)context.Operation;
            if (assignment.EventReference is not IEventReferenceOperation eventReference)
            {
                return;
            }

            var root = OwnershipAnalyzer.Root(assignment);
            if (assignment.Adds)
            {
                if (!context.ContainingSymbol.IsStatic && SymbolEqualityComparer.Default.Equals(context.ContainingSymbol.ContainingType, type))
                {
                    _adds.Add((assignment, root, context.ContainingSymbol));
                }
            }
            else if (DescribeHandler(assignment.HandlerValue, root).Key is { } key)
            {
                _removals[(eventReference.Event.Name, key)] = true;
            }
        }

        // Whether a field or property of the class is only ever assigned objects the class creates (new), read from the
        // class's declarations: initializers and assignments to the member's name (alone or after this.), clearing to
        // null or default aside; passing it by ref or out counts as an assignment from elsewhere. Cached per member.
        private readonly ConcurrentDictionary<ISymbol, bool> _created = new(SymbolEqualityComparer.Default);

        private bool IsCreatedMember(ISymbol member)
            => SymbolEqualityComparer.Default.Equals(member.ContainingType, type)
               && _created.GetOrAdd(member, m => ComputeCreated(m));

        private bool ComputeCreated(ISymbol member)
        {
            var name = member.Name;
            var created = 0;
            foreach (var reference in type.DeclaringSyntaxReferences)
            {
                foreach (var node in reference.GetSyntax().DescendantNodes())
                {
                    ExpressionSyntax? value = null;
                    switch (node)
                    {
                        case VariableDeclaratorSyntax { Parent.Parent: FieldDeclarationSyntax } declarator when declarator.Identifier.ValueText == name:
                            value = declarator.Initializer?.Value;
                            break;
                        case PropertyDeclarationSyntax property when property.Identifier.ValueText == name:
                            value = property.Initializer?.Value;
                            break;
                        case AssignmentExpressionSyntax assignment when NamesMember(assignment.Left, name):
                            value = assignment.Right;
                            if (value is null)
                            {
                                return false;
                            }

                            break;
                        case ArgumentSyntax argument when !argument.RefKindKeyword.IsKind(SyntaxKind.None) && NamesMember(argument.Expression, name):
                            return false;
                        default:
                            continue;
                    }

                    switch (value)
                    {
                        case null:
                            continue;
                        case BaseObjectCreationExpressionSyntax:
                            created++;
                            break;
                        case LiteralExpressionSyntax literal when literal.IsKind(SyntaxKind.NullLiteralExpression) || literal.IsKind(SyntaxKind.DefaultLiteralExpression):
                        case DefaultExpressionSyntax:
                            break;
                        default:
                            return false;
                    }
                }
            }

            return created > 0;
        }

        private static bool NamesMember(ExpressionSyntax expression, string name) => expression switch
        {
            IdentifierNameSyntax identifier => identifier.Identifier.ValueText == name,
            MemberAccessExpressionSyntax { Expression: ThisExpressionSyntax } access => access.Name.Identifier.ValueText == name,
            _ => false,
        };

        internal void Report(SymbolAnalysisContext context, bool safeMemReferenced)
        {
            foreach (var (add, root, _) in _adds)
            {
                var eventReference = (IEventReferenceOperation)add.EventReference!;
                var @event = eventReference.Event;
                var (key, boundToThis, handlerKind) = DescribeHandler(add.HandlerValue, root);
                if (!boundToThis || (key is not null && _removals.ContainsKey((@event.Name, key))) || IsWeakEvent(@event))
                {
                    continue;
                }

                var origin = @event.IsStatic
                    ? ObjectOrigin.Global
                    : OwnershipModel.OriginOf(eventReference.Instance, root, IsCreatedMember);
                if (origin is not (ObjectOrigin.Given or ObjectOrigin.Global))
                {
                    continue;
                }

                // A given source the class disposes, or one that already holds the instance, adds no lifetime to it:
                // the class owns the source (it ends its life), or the source is dedicated to the instance.
                if (origin == ObjectOrigin.Given
                    && OwnershipModel.NamesOf(eventReference.Instance, root) is { Count: > 0 } names
                    && (OwnershipModel.DisposesAny(_blocks, names) || OwnershipModel.HoldsInstance(_blocks, names)))
                {
                    continue;
                }

                var sourceKind = @event.IsStatic
                    ? "Static"
                    : OwnershipModel.SkipConversionsDown(eventReference.Instance) switch
                    {
                        IMemberReferenceOperation { Instance: IInstanceReferenceOperation } => "ThisMember",
                        IMemberReferenceOperation { Member.IsStatic: true } => "StaticMember",
                        IParameterReferenceOperation => "Parameter",
                        _ => "Other",
                    };
                var properties = ImmutableDictionary<string, string?>.Empty
                    .Add(HandlerKindProperty, handlerKind)
                    .Add(SourceKindProperty, sourceKind)
                    .Add(Descriptors.SafeMemReferencedProperty, safeMemReferenced ? "true" : "false");
                // A static source lives as long as the process: the subscription is almost always a leak (a warning). An
                // instance the class was given lives as long as whoever created it decides, out of sight of this class:
                // the same shape is a view model on an app-wide service (a leak) or a recorder on a watcher made beside
                // it (none). On real code half of those reports were the latter (docs/analyzers/precision.md), so they
                // are suggestions (Info) until .editorconfig raises the rule.
                var severity = origin == ObjectOrigin.Global ? DiagnosticSeverity.Warning : DiagnosticSeverity.Info;
                context.ReportDiagnostic(Diagnostic.Create(
                    Descriptors.SubscriptionOutlivesSubscriber,
                    add.Syntax.GetLocation(),
                    severity,
                    additionalLocations: null,
                    properties,
                    type.Name,
                    @event.ContainingType.Name + "." + @event.Name,
                    type.Name));
            }
        }
    }
}
