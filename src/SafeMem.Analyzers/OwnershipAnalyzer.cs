using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;
using SafeMem.Analyzers.Ownership;

namespace SafeMem.Analyzers;

/// <summary>
/// The rules about objects a method creates or takes and must hand on or give back: SM1004 (a SafeMem block created
/// per call), SM1005 (a discarded CancellationTokenRegistration), SM1006 (a fire-and-forget timer) and SM1007 (a pooled
/// object never returned). All four ask <see cref="OwnershipModel"/> what the method does with the object.
/// </summary>
/// <remarks>
/// Stateless across callbacks (everything is computed from the operation tree of the member being analyzed), so it
/// runs concurrently. Generated code is neither analyzed nor reported on.
/// </remarks>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class OwnershipAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        Descriptors.BlockCreatedPerCall,
        Descriptors.DiscardedRegistration,
        Descriptors.FireAndForgetTimer,
        Descriptors.RentedNeverReturned);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            var known = KnownTypes.Get(start.Compilation);
            if (known.SafeMemBlocks.Count > 0 || known.ThreadingTimer is not null || known.TimersTimer is not null || known.PeriodicTimer is not null)
            {
                start.RegisterOperationAction(c => AnalyzeCreation(c, known), OperationKind.ObjectCreation);
            }

            if (known.CancellationToken is not null || known.ObjectPool is not null)
            {
                start.RegisterOperationAction(c => AnalyzeInvocation(c, known), OperationKind.Invocation);
            }
        });
    }

    private static void AnalyzeCreation(OperationAnalysisContext context, KnownTypes known)
    {
        var creation = (IObjectCreationOperation)context.Operation;
        var type = creation.Type;
        var isBlock = known.IsSafeMemBlock(type);
        var isTimer = !isBlock && known.IsTimer(type);
        if (!isBlock && !isTimer)
        {
            return;
        }

        var destination = OwnershipModel.FindDestination(creation, out var local, out var usingDeclared);
        if (destination == ValueDestination.Elsewhere || usingDeclared)
        {
            return;
        }

        var fate = LocalFate.None;
        if (local is not null)
        {
            fate = OwnershipModel.Classify(local, Root(creation));
            if ((fate & (LocalFate.HandedOn | LocalFate.Disposed | LocalFate.UsingDeclared)) != 0)
            {
                return;
            }
        }

        var typeName = type!.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat);
        if (isBlock)
        {
            // A method that runs once (Main, top-level statements, a static constructor) creates its blocks once.
            if (RunsOnce(context.ContainingSymbol))
            {
                return;
            }

            context.ReportDiagnostic(Diagnostic.Create(Descriptors.BlockCreatedPerCall, creation.Syntax.GetLocation(), typeName));
        }
        else
        {
            var how = local is null ? "created and discarded" : $"kept only in the local '{local.Name}', which is neither disposed, returned, stored nor passed on";
            var properties = ImmutableDictionary<string, string?>.Empty;
            context.ReportDiagnostic(Diagnostic.Create(Descriptors.FireAndForgetTimer, creation.Syntax.GetLocation(), properties, typeName, how));
        }
    }

    private static void AnalyzeInvocation(OperationAnalysisContext context, KnownTypes known)
    {
        var invocation = (IInvocationOperation)context.Operation;
        var method = invocation.TargetMethod;
        if (method.Name is "Register" or "UnsafeRegister" && KnownTypes.Is(method.ContainingType, known.CancellationToken))
        {
            AnalyzeRegistration(context, invocation, known);
        }
        else if (method.Name == "Get" && method.Parameters.Length == 0 && !method.IsStatic && known.IsObjectPool(method.ContainingType))
        {
            AnalyzeRental(context, invocation, known);
        }
    }

    private static void AnalyzeRegistration(OperationAnalysisContext context, IInvocationOperation invocation, KnownTypes known)
    {
        if (OwnershipModel.FindDestination(invocation, out _, out _) != ValueDestination.Discarded)
        {
            return;
        }

        var root = Root(invocation);
        if (TokenIsExempt(invocation.Instance, root, known, depth: 0))
        {
            return;
        }

        context.ReportDiagnostic(Diagnostic.Create(
            Descriptors.DiscardedRegistration, invocation.Syntax.GetLocation(), "CancellationToken." + invocation.TargetMethod.Name));
    }

    // Whether the token cannot keep the callback past the method: it comes from a source the method creates and
    // disposes, or it can never be cancelled (CancellationToken.None, default), which makes Register a no-op.
    private static bool TokenIsExempt(IOperation? token, IOperation root, KnownTypes known, int depth)
    {
        if (depth > 6)
        {
            return false;
        }

        switch (OwnershipModel.SkipConversionsDown(token))
        {
            case IDefaultValueOperation:
            case IObjectCreationOperation:
            case IPropertyReferenceOperation { Property: { IsStatic: true, Name: "None" } }:
                return true;
            case IPropertyReferenceOperation { Property.Name: "Token" } property
                when known.IsCancellationTokenSource(property.Property.ContainingType):
                return OwnershipModel.SkipConversionsDown(property.Instance) is ILocalReferenceOperation source
                       && SourceCreatedAndDisposed(source.Local, root, known);
            case ILocalReferenceOperation local:
                var values = OwnershipModel.ValuesAssignedTo(local.Local, root);
                return values.Count > 0 && values.All(value => TokenIsExempt(value, root, known, depth + 1));
            default:
                return false;
        }
    }

    private static bool SourceCreatedAndDisposed(ILocalSymbol source, IOperation root, KnownTypes known)
    {
        var values = OwnershipModel.ValuesAssignedTo(source, root);
        if (values.Count == 0 || !values.All(value => IsNewSource(value, known)))
        {
            return false;
        }

        var fate = OwnershipModel.Classify(source, root);
        return (fate & (LocalFate.Disposed | LocalFate.UsingDeclared)) != 0
               && (fate & (LocalFate.Returned | LocalFate.Stored | LocalFate.Unknown)) == 0;
    }

    private static bool IsNewSource(IOperation value, KnownTypes known)
        => OwnershipModel.SkipConversionsDown(value) switch
        {
            IObjectCreationOperation creation => known.IsCancellationTokenSource(creation.Type),
            IInvocationOperation { TargetMethod: { IsStatic: true, Name: "CreateLinkedTokenSource" } } call
                => known.IsCancellationTokenSource(call.TargetMethod.ContainingType),
            _ => false,
        };

    private static void AnalyzeRental(OperationAnalysisContext context, IInvocationOperation invocation, KnownTypes known)
    {
        if (OwnershipModel.FindDestination(invocation, out var local, out _) != ValueDestination.Local || local is null)
        {
            return;
        }

        var root = Root(invocation);
        var fate = OwnershipModel.Classify(local, root);
        if ((fate & (LocalFate.Returned | LocalFate.Stored | LocalFate.Captured | LocalFate.Unknown)) != 0)
        {
            return;
        }

        // Broken code has no trustworthy flow; a rule that needs paths stays silent there.
        if (root.Syntax.ContainsDiagnostics)
        {
            return;
        }

        var graph = GraphOf(context.GetControlFlowGraph(), invocation, root);
        if (graph is null)
        {
            return;
        }

        bool GivesBack(IOperation operation)
            => operation is IInvocationOperation { TargetMethod.Name: "Return" } call
               && known.IsObjectPool(call.TargetMethod.ContainingType)
               && call.Arguments.Any(argument => OwnershipModel.SkipConversionsDown(argument.Value) is ILocalReferenceOperation reference
                                                 && SymbolEqualityComparer.Default.Equals(reference.Local, local));

        if (PathsOut.EveryPathGivesBack(graph, invocation.Syntax, GivesBack) == false)
        {
            context.ReportDiagnostic(Diagnostic.Create(Descriptors.RentedNeverReturned, invocation.Syntax.GetLocation(), local.Name));
        }
    }

    // The graph of the innermost lambda or local function holding the operation (the member's own graph otherwise).
    private static ControlFlowGraph? GraphOf(ControlFlowGraph graph, IOperation operation, IOperation root)
    {
        var functions = new List<IOperation>();
        for (var function = OwnershipModel.EnclosingFunction(operation, root); function is not null; function = OwnershipModel.EnclosingFunction(function, root))
        {
            functions.Insert(0, function);
        }

        foreach (var function in functions)
        {
            ControlFlowGraph? inner = null;
            if (function is ILocalFunctionOperation localFunction)
            {
                if (graph.LocalFunctions.Contains(localFunction.Symbol))
                {
                    inner = graph.GetLocalFunctionControlFlowGraph(localFunction.Symbol);
                }
            }
            else
            {
                foreach (var block in graph.Blocks)
                {
                    foreach (var candidate in block.Operations.SelectMany(o => o.DescendantsAndSelf()))
                    {
                        if (candidate is IFlowAnonymousFunctionOperation flow && flow.Syntax == function.Syntax)
                        {
                            inner = graph.GetAnonymousFunctionControlFlowGraph(flow);
                            break;
                        }
                    }

                    if (inner is not null)
                    {
                        break;
                    }
                }
            }

            if (inner is null)
            {
                return null;
            }

            graph = inner;
        }

        return graph;
    }

    internal static IOperation Root(IOperation operation)
    {
        var current = operation;
        while (current.Parent is not null)
        {
            current = current.Parent;
        }

        return current;
    }

    // Methods a host runs once (per test case, per process), not per request: the entry point, a static constructor, a
    // module initializer, a test method or a one-time setup of the common test and benchmark frameworks.
    private static readonly HashSet<string> s_runOnceAttributes = new(StringComparer.Ordinal)
    {
        "FactAttribute", "TheoryAttribute", "SkippableFactAttribute", "SkippableTheoryAttribute", "TestAttribute",
        "TestCaseAttribute", "TestCaseSourceAttribute", "TestMethodAttribute", "DataTestMethodAttribute",
        "OneTimeSetUpAttribute", "ClassInitializeAttribute", "AssemblyInitializeAttribute", "GlobalSetupAttribute",
        "ModuleInitializerAttribute",
    };

    private static bool RunsOnce(ISymbol symbol)
        => symbol is IMethodSymbol method
           && (method.MethodKind == MethodKind.StaticConstructor
               || (method.IsStatic && method.Name is "Main" or "<Main>$")
               || method.GetAttributes().Any(a => a.AttributeClass is { } attribute && s_runOnceAttributes.Contains(attribute.Name)));
}
