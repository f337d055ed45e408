using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace SafeMem.Analyzers.Ownership;

/// <summary>
/// The analyzers' one model of "who owns this object": where a created value goes (a local, nowhere, elsewhere), what
/// a method does with the object a local holds (returns, stores, passes on, captures, disposes), and where the object
/// an expression reaches comes from (created by the class, given to it, global). Every rule that asks about ownership
/// (SM1002, SM1004-SM1007) asks here, so that "handed on" means the same thing in all of them.
/// </summary>
/// <remarks>
/// Stateless and thread-safe. Precision over recall: a use the model does not recognise counts as handed on
/// (<see cref="LocalFate.Unknown"/>), because a rule that guesses ownership wrong is a rule teams switch off.
/// </remarks>
internal static class OwnershipModel
{
    private static readonly HashSet<string> s_disposeNames = new(StringComparer.Ordinal) { "Dispose", "DisposeAsync", "Close" };

    /// <summary>Skips the conversions (implicit or explicit) around <paramref name="operation"/>, walking up.</summary>
    internal static IOperation SkipConversionsUp(IOperation operation)
    {
        var current = operation;
        while (current.Parent is IConversionOperation conversion && conversion.Operand == current)
        {
            current = conversion;
        }

        return current;
    }

    /// <summary>Skips the conversions around <paramref name="operation"/>, walking down to the converted value.</summary>
    internal static IOperation? SkipConversionsDown(IOperation? operation)
    {
        while (operation is IConversionOperation conversion)
        {
            operation = conversion.Operand;
        }

        return operation;
    }

    /// <summary>Where a value (a creation, a call's result) goes: into a local, nowhere, or elsewhere.</summary>
    internal static ValueDestination FindDestination(IOperation value, out ILocalSymbol? local, out bool usingDeclared)
    {
        local = null;
        usingDeclared = false;
        var current = SkipConversionsUp(value);
        switch (current.Parent)
        {
            case IExpressionStatementOperation:
                return ValueDestination.Discarded;
            case ISimpleAssignmentOperation assignment when assignment.Value == current:
                switch (SkipConversionsDown(assignment.Target))
                {
                    case IDiscardOperation:
                        return ValueDestination.Discarded;
                    case ILocalReferenceOperation target:
                        local = target.Local;
                        return ValueDestination.Local;
                    default:
                        return ValueDestination.Elsewhere;
                }

            case IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator }:
                local = declarator.Symbol;
                usingDeclared = IsUsingDeclarator(declarator);
                return ValueDestination.Local;
            default:
                return ValueDestination.Elsewhere;
        }
    }

    /// <summary>What the method rooted at <paramref name="root"/> does with the object <paramref name="local"/> holds.</summary>
    /// <remarks>
    /// Follows copies into other locals (<c>var b = a;</c>). Reads inside a lambda or local function that the local is
    /// declared outside of count as captured.
    /// </remarks>
    internal static LocalFate Classify(ILocalSymbol local, IOperation root)
    {
        var aliases = new HashSet<ILocalSymbol>(SymbolEqualityComparer.Default) { local };
        var fate = LocalFate.None;
        var references = new List<ILocalReferenceOperation>();
        foreach (var operation in root.Descendants())
        {
            switch (operation)
            {
                case ILocalReferenceOperation reference:
                    references.Add(reference);
                    break;
                case IVariableDeclaratorOperation declarator
                    when SymbolEqualityComparer.Default.Equals(declarator.Symbol, local) && IsUsingDeclarator(declarator):
                    fate |= LocalFate.UsingDeclared | LocalFate.Disposed;
                    break;
            }
        }

        // Copies may come after their first use in tree order; two passes find copies of copies in the usual shapes.
        for (var pass = 0; pass < 2; pass++)
        {
            foreach (var reference in references)
            {
                if (aliases.Contains(reference.Local))
                {
                    fate |= ClassifyUse(reference, root, aliases);
                }
            }
        }

        return fate;
    }

    /// <summary>Whether <paramref name="declarator"/> declares a using variable (declaration or using statement).</summary>
    internal static bool IsUsingDeclarator(IVariableDeclaratorOperation declarator)
    {
        var declaration = declarator.Parent;
        var group = declaration?.Parent;
        return group is IVariableDeclarationGroupOperation
               && (group.Parent is IUsingDeclarationOperation
                   || (group.Parent is IUsingOperation owner && owner.Resources == group));
    }

    /// <summary>The lambda or local function nearest <paramref name="operation"/> inside <paramref name="root"/>, if any.</summary>
    internal static IOperation? EnclosingFunction(IOperation operation, IOperation root)
    {
        for (var current = operation.Parent; current is not null && current != root; current = current.Parent)
        {
            if (current is IAnonymousFunctionOperation or ILocalFunctionOperation)
            {
                return current;
            }
        }

        return null;
    }

    /// <summary>The values the method rooted at <paramref name="root"/> assigns to <paramref name="local"/>.</summary>
    internal static List<IOperation> ValuesAssignedTo(ILocalSymbol local, IOperation root)
    {
        var values = new List<IOperation>();
        foreach (var operation in root.Descendants())
        {
            switch (operation)
            {
                case IVariableDeclaratorOperation declarator
                    when SymbolEqualityComparer.Default.Equals(declarator.Symbol, local) && declarator.GetVariableInitializer() is { } initializer:
                    values.Add(initializer.Value);
                    break;
                case ISimpleAssignmentOperation assignment
                    when SkipConversionsDown(assignment.Target) is ILocalReferenceOperation target
                         && SymbolEqualityComparer.Default.Equals(target.Local, local):
                    values.Add(assignment.Value);
                    break;
            }
        }

        return values;
    }

    /// <summary>Where the object <paramref name="expression"/> reaches comes from.</summary>
    /// <param name="expression">The expression (conversions are skipped).</param>
    /// <param name="root">The method the expression is in (to follow locals).</param>
    /// <param name="isCreatedMember">
    /// Whether a field or property of the class is only ever assigned objects the class creates; the caller has seen
    /// every assignment in the class.
    /// </param>
    internal static ObjectOrigin OriginOf(IOperation? expression, IOperation root, Func<ISymbol, bool> isCreatedMember)
        => OriginOf(expression, root, isCreatedMember, depth: 0);

    private static ObjectOrigin OriginOf(IOperation? expression, IOperation root, Func<ISymbol, bool> isCreatedMember, int depth)
    {
        if (depth > 8)
        {
            return ObjectOrigin.Unknown;
        }

        switch (SkipConversionsDown(expression))
        {
            case IInstanceReferenceOperation:
                return ObjectOrigin.Self;
            case IObjectCreationOperation:
                return ObjectOrigin.Created;
            case IParameterReferenceOperation:
                return ObjectOrigin.Given;
            case IMemberReferenceOperation member when member.Member.IsStatic:
                return ObjectOrigin.Global;
            case IMemberReferenceOperation { Instance: IInstanceReferenceOperation } member
                when member is IFieldReferenceOperation or IPropertyReferenceOperation:
                return isCreatedMember(member.Member.OriginalDefinition) ? ObjectOrigin.Created : ObjectOrigin.Given;
            case IMemberReferenceOperation member when member is IFieldReferenceOperation or IPropertyReferenceOperation:
                // A member of another object: that object's owner owns it too (a child of a control the class made).
                var owner = OriginOf(member.Instance, root, isCreatedMember, depth + 1);
                return owner == ObjectOrigin.Self ? ObjectOrigin.Given : owner;
            case ILocalReferenceOperation local:
                var result = ObjectOrigin.Unknown;
                foreach (var value in ValuesAssignedTo(local.Local, root))
                {
                    var origin = OriginOf(value, root, isCreatedMember, depth + 1);
                    if (origin == ObjectOrigin.Unknown || (result != ObjectOrigin.Unknown && result != origin))
                    {
                        return ObjectOrigin.Unknown;
                    }

                    result = origin;
                }

                return result;
            default:
                return ObjectOrigin.Unknown;
        }
    }

    private static LocalFate ClassifyUse(ILocalReferenceOperation reference, IOperation root, HashSet<ILocalSymbol> aliases)
    {
        if (EnclosingFunction(reference, root) is { } function && !DeclaredInside(reference.Local, function))
        {
            return LocalFate.Captured;
        }

        var current = SkipConversionsUp(reference);
        var parent = current.Parent;

        // A value that flows through ?:, ?? or a switch expression goes where their result goes.
        while (parent is IConditionalOperation conditional && conditional.Condition != current
               || parent is ICoalesceOperation
               || parent is ISwitchExpressionArmOperation { Parent: ISwitchExpressionOperation })
        {
            current = parent is ISwitchExpressionArmOperation arm ? arm.Parent! : parent;
            current = SkipConversionsUp(current);
            parent = current.Parent;
        }

        switch (parent)
        {
            case null:
                return LocalFate.None;
            case IReturnOperation:
                return LocalFate.Returned;
            case IArgumentOperation argument:
                return ClassifyArgument(argument);
            case ISimpleAssignmentOperation assignment when assignment.Value == current:
                switch (SkipConversionsDown(assignment.Target))
                {
                    case IDiscardOperation:
                        return LocalFate.None;
                    case ILocalReferenceOperation target:
                        aliases.Add(target.Local);
                        return LocalFate.None;
                    default:
                        return LocalFate.Stored;
                }

            case ISimpleAssignmentOperation assignment when assignment.Target == current:
                return LocalFate.None;
            case IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator }:
                aliases.Add(declarator.Symbol);
                return LocalFate.None;
            case IInvocationOperation invocation when invocation.Instance == current:
                return s_disposeNames.Contains(invocation.TargetMethod.Name) ? LocalFate.Disposed : LocalFate.None;
            case IConditionalAccessOperation access when access.Operation == current:
                return access.WhenNotNull is IInvocationOperation { Instance: IConditionalAccessInstanceOperation } call
                       && s_disposeNames.Contains(call.TargetMethod.Name)
                    ? LocalFate.Disposed
                    : LocalFate.None;
            case IMethodReferenceOperation methodReference when methodReference.Instance == current:
                // A method group bound to the object (timer.Dispose as a callback) is a delegate that keeps it.
                return LocalFate.Captured;
            case IMemberReferenceOperation member when member.Instance == current:
                return LocalFate.None;
            case IUsingOperation:
                return LocalFate.Disposed;
            case IForEachLoopOperation loop when loop.Collection == current:
            case ILockOperation:
            case IAwaitOperation:
            case IIsPatternOperation:
            case IIsTypeOperation:
            case IBinaryOperation:
            case IUnaryOperation:
            case ISwitchOperation:
            case ISwitchExpressionOperation:
            case IInterpolationOperation:
            case IExpressionStatementOperation:
            case INameOfOperation:
                return LocalFate.None;
            case ITupleOperation:
            case IArrayInitializerOperation:
            case IPropertyInitializerOperation:
            case IFieldInitializerOperation:
                return LocalFate.Stored;
            default:
                return LocalFate.Unknown;
        }
    }

    private static LocalFate ClassifyArgument(IArgumentOperation argument)
    {
        switch (argument.Parent)
        {
            // A collection initializer's Add, and Interlocked/Volatile publishing into a location, store the object.
            case IInvocationOperation invocation when invocation.IsImplicit:
                return LocalFate.Stored;
            case IInvocationOperation invocation
                when invocation.TargetMethod.ContainingType is { } type
                     && type.ContainingNamespace?.ToDisplayString() == "System.Threading"
                     && type.Name is "Interlocked" or "Volatile":
                return LocalFate.Stored;
            default:
                return LocalFate.PassedToCall;
        }
    }

    private static bool DeclaredInside(ILocalSymbol local, IOperation function)
    {
        var span = function.Syntax.Span;
        foreach (var reference in local.DeclaringSyntaxReferences)
        {
            if (reference.SyntaxTree == function.Syntax.SyntaxTree && span.Contains(reference.Span))
            {
                return true;
            }
        }

        return false;
    }
}
