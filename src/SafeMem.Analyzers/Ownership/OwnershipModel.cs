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
    private static readonly HashSet<string> s_disposeNames = new(StringComparer.Ordinal) { "Dispose", "DisposeAsync", "Close", "CloseAsync" };

    /// <summary>Whether <paramref name="name"/> is the name of a method that ends an object's life (Dispose, Close and their async forms).</summary>
    internal static bool IsDisposeName(string name) => s_disposeNames.Contains(name);

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

    /// <summary>
    /// The names through which a class reaches the object <paramref name="expression"/> refers to: a parameter, with the
    /// fields and properties of the class that the method assigns that parameter to (<c>_session = session</c>); a field
    /// or property of the class; or the names of what a local was assigned. Empty when the object is reached any other
    /// way (a member of another object, a call's result): then no name can say that two expressions are the same object.
    /// </summary>
    /// <remarks>
    /// Two expressions whose names meet are taken to reach the same object. A field assigned at different times from
    /// different places makes that an approximation, which is why callers use it only to excuse a report, never to make one.
    /// </remarks>
    internal static HashSet<ISymbol> NamesOf(IOperation? expression, IOperation root)
    {
        var names = new HashSet<ISymbol>(SymbolEqualityComparer.Default);
        AddNames(expression, root, names, depth: 0);
        return names;
    }

    /// <summary>
    /// The object a call's receiver reaches, seeing through <c>?.</c>: for <c>x?.Dispose()</c> that is <c>x</c>.
    /// </summary>
    internal static IOperation? Receiver(IInvocationOperation invocation)
    {
        var instance = SkipConversionsDown(invocation.Instance);
        if (instance is not IConditionalAccessInstanceOperation)
        {
            return instance;
        }

        for (var current = invocation.Parent; current is not null; current = current.Parent)
        {
            if (current is IConditionalAccessOperation access)
            {
                return SkipConversionsDown(access.Operation);
            }
        }

        return null;
    }

    /// <summary>
    /// Whether the class whose member bodies are <paramref name="roots"/> ends the life of the object named by
    /// <paramref name="names"/>: it calls Dispose, DisposeAsync, Close or CloseAsync on it. A class that disposes an
    /// object it was given has taken ownership of it: the object is meant to live no longer than the class.
    /// </summary>
    internal static bool DisposesAny(IEnumerable<IOperation> roots, HashSet<ISymbol> names)
    {
        foreach (var root in roots)
        {
            foreach (var invocation in root.DescendantsAndSelf().OfType<IInvocationOperation>())
            {
                if (IsDisposeName(invocation.TargetMethod.Name)
                    && !invocation.TargetMethod.IsStatic
                    && NamesOf(Receiver(invocation), root).Overlaps(names))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// Whether the object named by <paramref name="names"/> already holds the instance: the class assigns to one of
    /// the object's fields or properties <c>this</c>, or a delegate bound to <c>this</c> (a method of the class, a
    /// lambda that uses it), and never assigns that member anything else (no <c>= null</c> that would let go).
    /// </summary>
    /// <remarks>
    /// Anything the instance adds to that object's lifetime is then already added: a handler it subscribes to the same
    /// object keeps nothing alive that the member does not. A single-slot member that the instance claims for itself
    /// (<c>session.CommandReceived = Handle</c>) is also the mark of an object dedicated to this instance: a second
    /// client would take the slot over.
    /// </remarks>
    internal static bool HoldsInstance(IEnumerable<IOperation> roots, HashSet<ISymbol> names)
    {
        var held = new HashSet<ISymbol>(SymbolEqualityComparer.Default);
        var released = new HashSet<ISymbol>(SymbolEqualityComparer.Default);
        foreach (var root in roots)
        {
            foreach (var assignment in root.DescendantsAndSelf().OfType<ISimpleAssignmentOperation>())
            {
                if (SkipConversionsDown(assignment.Target) is not IMemberReferenceOperation member
                    || member is not (IFieldReferenceOperation or IPropertyReferenceOperation))
                {
                    continue;
                }

                var symbol = member.Member.OriginalDefinition;
                if (!IsBoundToInstance(assignment.Value))
                {
                    released.Add(symbol);
                }
                else if (member.Instance is not null && NamesOf(member.Instance, root).Overlaps(names))
                {
                    held.Add(symbol);
                }
            }
        }

        held.ExceptWith(released);
        return held.Count > 0;
    }

    // this itself, or a delegate whose target is this: a method group of the instance, or a lambda that uses it.
    private static bool IsBoundToInstance(IOperation? value)
    {
        var current = SkipConversionsDown(value);
        if (current is IDelegateCreationOperation creation)
        {
            current = SkipConversionsDown(creation.Target);
        }

        return current switch
        {
            IInstanceReferenceOperation { ReferenceKind: InstanceReferenceKind.ContainingTypeInstance } => true,
            IMethodReferenceOperation { Method.IsStatic: false } reference
                => SkipConversionsDown(reference.Instance) is IInstanceReferenceOperation { ReferenceKind: InstanceReferenceKind.ContainingTypeInstance },
            IAnonymousFunctionOperation function
                => function.Descendants().Any(o => o is IInstanceReferenceOperation { ReferenceKind: InstanceReferenceKind.ContainingTypeInstance }),
            _ => false,
        };
    }

    private static void AddNames(IOperation? expression, IOperation root, HashSet<ISymbol> names, int depth)
    {
        if (depth > 4)
        {
            return;
        }

        switch (SkipConversionsDown(expression))
        {
            case IParameterReferenceOperation parameter:
                names.Add(parameter.Parameter);
                foreach (var assignment in root.Descendants().OfType<ISimpleAssignmentOperation>())
                {
                    if (SkipConversionsDown(assignment.Target) is IMemberReferenceOperation { Instance: IInstanceReferenceOperation { ReferenceKind: InstanceReferenceKind.ContainingTypeInstance } } member
                        && member is IFieldReferenceOperation or IPropertyReferenceOperation
                        && Unwrapped(assignment.Value) is IParameterReferenceOperation assigned
                        && SymbolEqualityComparer.Default.Equals(assigned.Parameter, parameter.Parameter))
                    {
                        names.Add(member.Member.OriginalDefinition);
                    }
                }

                break;
            case IMemberReferenceOperation { Instance: IInstanceReferenceOperation { ReferenceKind: InstanceReferenceKind.ContainingTypeInstance } } member
                when member is IFieldReferenceOperation or IPropertyReferenceOperation:
                names.Add(member.Member.OriginalDefinition);
                break;
            case ILocalReferenceOperation local:
                foreach (var value in ValuesAssignedTo(local.Local, root))
                {
                    AddNames(value, root, names, depth + 1);
                }

                break;
        }
    }

    // The value itself, through conversions and a null check that throws (field = parameter ?? throw ...).
    private static IOperation? Unwrapped(IOperation? value)
    {
        var current = SkipConversionsDown(value);
        return current is ICoalesceOperation { WhenNull: IThrowOperation or IConversionOperation { Operand: IThrowOperation } } coalesce
            ? SkipConversionsDown(coalesce.Value)
            : current;
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
                return IsDisposeName(invocation.TargetMethod.Name) ? LocalFate.Disposed : LocalFate.None;
            case IConditionalAccessOperation access when access.Operation == current:
                return access.WhenNotNull is IInvocationOperation { Instance: IConditionalAccessInstanceOperation } call
                       && IsDisposeName(call.TargetMethod.Name)
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
