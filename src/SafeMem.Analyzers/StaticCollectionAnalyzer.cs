using System.Collections.Concurrent;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using SafeMem.Analyzers.Ownership;

namespace SafeMem.Analyzers;

/// <summary>SM1001: a static collection that code adds to and nothing ever removes from, clears or replaces.</summary>
/// <remarks>
/// A removal may be anywhere in the compilation (another class, through a non-private field), so the facts about every
/// static collection field are gathered over the whole compilation and judged at its end. Generated code is analyzed
/// (its removals count) but never reported on. Thread-safe: one lock-free record per field.
/// </remarks>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class StaticCollectionAnalyzer : DiagnosticAnalyzer
{
    private static readonly HashSet<string> s_adds = new(StringComparer.Ordinal)
    {
        "Add", "TryAdd", "GetOrAdd", "AddOrUpdate", "Enqueue", "TryEnqueue", "Push", "Insert", "AddRange", "InsertRange",
        "AddFirst", "AddLast", "AddBefore", "AddAfter", "UnionWith", "Append",
    };

    private static readonly HashSet<string> s_removals = new(StringComparer.Ordinal)
    {
        "Remove", "TryRemove", "Clear", "RemoveAll", "RemoveAt", "RemoveRange", "RemoveWhere", "RemoveFirst", "RemoveLast",
        "Dequeue", "TryDequeue", "Pop", "TryPop", "Take", "TryTake", "TrimExcess", "ExceptWith", "IntersectWith",
        "SymmetricExceptWith", "TryRemoveWhere", "Compact", "Trim", "Prune", "Evict", "Purge",
    };

    // Keys (or elements) from a domain the program's own code bounds: one entry per type, member, assembly, enum value.
    private static readonly HashSet<string> s_boundedKeyTypes = new(StringComparer.Ordinal)
    {
        "System.Type", "System.RuntimeTypeHandle", "System.RuntimeMethodHandle", "System.RuntimeFieldHandle",
        "System.Reflection.Assembly", "System.Reflection.Module", "System.Reflection.MemberInfo",
        "System.Reflection.MethodInfo", "System.Reflection.MethodBase", "System.Reflection.ConstructorInfo",
        "System.Reflection.PropertyInfo", "System.Reflection.FieldInfo", "System.Reflection.EventInfo",
        "System.Reflection.ParameterInfo", "System.Reflection.TypeInfo",
    };

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(Descriptors.StaticCollectionOnlyGrows);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.Analyze);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            var facts = new ConcurrentDictionary<IFieldSymbol, FieldFacts>(SymbolEqualityComparer.Default);
            var candidates = new ConcurrentDictionary<IFieldSymbol, bool>(SymbolEqualityComparer.Default);
            var known = KnownTypes.Get(start.Compilation);
            bool IsCandidate(IFieldSymbol field) => candidates.GetOrAdd(field, f => IsGrowableStaticCollection(f, known));

            start.RegisterOperationAction(
                context =>
                {
                    var reference = (IFieldReferenceOperation)context.Operation;
                    // Cheap tests first: most field references are instance fields, constants and enum members.
                    var field = reference.Field;
                    if (!field.IsStatic || field.IsConst || field.Type.TypeKind is not (TypeKind.Class or TypeKind.Interface)
                        || !SymbolEqualityComparer.Default.Equals(field.ContainingAssembly, start.Compilation.Assembly))
                    {
                        return;
                    }

                    field = field.OriginalDefinition;
                    if (IsCandidate(field))
                    {
                        var use = ClassifyUse(reference, context.ContainingSymbol, field);
                        if (use != Use.Read)
                        {
                            var record = facts.GetOrAdd(field, static _ => new FieldFacts());
                            record.Note(use);
                            if (use is Use.Add or Use.CacheAdd)
                            {
                                // A list grows with every add, even of the same constant; a table or set does not.
                                record.NoteKey(IsKeyed(field.Type) ? KeyOf(reference) : null, context.ContainingSymbol);
                            }
                        }
                    }
                },
                OperationKind.FieldReference);

            start.RegisterCompilationEndAction(end =>
            {
                foreach (var pair in facts)
                {
                    var (field, record) = (pair.Key, pair.Value);
                    if (!record.Grows || record.Shrinks || field.Locations.Length == 0 || !field.Locations[0].IsInSource
                        || record.KeysAreConstant(end.Compilation, end.CancellationToken))
                    {
                        continue;
                    }

                    var properties = ImmutableDictionary<string, string?>.Empty
                        .Add(Descriptors.UsedAsCacheProperty, record.UsedAsCache ? "true" : "false")
                        .Add(Descriptors.SafeMemReferencedProperty, known.BoundedCache is not null ? "true" : "false");
                    var hint = record.UsedAsCache
                        ? known.BoundedCache is not null ? "; it is used as a cache: make it a BoundedCache" : "; it is used as a cache: a bounded cache (the SafeMem package's BoundedCache) keeps it in bounds"
                        : string.Empty;
                    end.ReportDiagnostic(Diagnostic.Create(
                        Descriptors.StaticCollectionOnlyGrows, field.Locations[0], properties, field.ContainingType.Name + "." + field.Name, hint));
                }
            });
        });
    }

    private static bool IsGrowableStaticCollection(IFieldSymbol field, KnownTypes known)
    {
        if (!field.IsStatic || field.IsConst || field.Type is not INamedTypeSymbol type || field.Locations.Length == 0 || !field.Locations[0].IsInSource)
        {
            return false;
        }

        var ns = type.ContainingNamespace?.ToDisplayString() ?? string.Empty;
        if (ns.StartsWith("System.Collections.Immutable", StringComparison.Ordinal)
            || ns.StartsWith("System.Collections.Frozen", StringComparison.Ordinal)
            || ns.StartsWith("SafeMem", StringComparison.Ordinal)
            || type.Name.StartsWith("ReadOnly", StringComparison.Ordinal)
            || type.Name.StartsWith("IReadOnly", StringComparison.Ordinal)
            || KnownTypes.Is(type.OriginalDefinition, known.ConditionalWeakTable))
        {
            return false;
        }

        var isCollection = IsMutableCollectionInterface(type) || type.AllInterfaces.Any(IsMutableCollectionInterface);
        return isCollection && !HasBoundedKeys(type);
    }

    private static bool IsMutableCollectionInterface(INamedTypeSymbol type)
    {
        if (type.ContainingNamespace?.ToDisplayString() is not ("System.Collections.Generic" or "System.Collections" or "System.Collections.Concurrent"))
        {
            return false;
        }

        return type.MetadataName is "ICollection`1" or "IDictionary`2" or "ISet`1" or "IList`1" or "IDictionary" or "IList" or "ICollection"
            or "IProducerConsumerCollection`1";
    }

    private static bool HasBoundedKeys(INamedTypeSymbol type)
    {
        var dictionary = IsDictionaryInterface(type) ? type : type.AllInterfaces.FirstOrDefault(IsDictionaryInterface);
        ITypeSymbol? key = dictionary?.TypeArguments[0];

        // A table that maps names to types or members (a type-name lookup) is a reflection cache as well: its keys name
        // the program's own types and members.
        if (dictionary?.TypeArguments[1] is { } value && IsReflectionType(value))
        {
            return true;
        }

        if (key is null)
        {
            var enumerable = type.AllInterfaces.FirstOrDefault(i => i.MetadataName == "IEnumerable`1" && i.ContainingNamespace?.ToDisplayString() == "System.Collections.Generic");
            key = enumerable?.TypeArguments[0];
        }

        if (key is null)
        {
            return false;
        }

        if (key.TypeKind == TypeKind.Enum
            || key.SpecialType is SpecialType.System_Boolean or SpecialType.System_Byte or SpecialType.System_SByte or SpecialType.System_Char)
        {
            return true;
        }

        // A tuple key with a type or member in it ((Type, string) for a property lookup) is a reflection cache too.
        return key is INamedTypeSymbol { IsTupleType: true } tuple
            ? tuple.TupleElements.Any(e => IsReflectionType(e.Type))
            : IsReflectionType(key);
    }

    private static bool IsReflectionType(ITypeSymbol type)
    {
        for (var current = type; current is not null; current = current.BaseType)
        {
            if (s_boundedKeyTypes.Contains(current.ToDisplayString()))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsKeyed(ITypeSymbol type)
        => type is INamedTypeSymbol named
           && (IsKeyedInterface(named) || named.AllInterfaces.Any(IsKeyedInterface));

    private static bool IsKeyedInterface(INamedTypeSymbol type)
        => type.MetadataName is "IDictionary`2" or "ISet`1" or "IDictionary"
           && type.ContainingNamespace?.ToDisplayString() is "System.Collections.Generic" or "System.Collections";

    private static bool IsDictionaryInterface(INamedTypeSymbol type)
        => type.MetadataName == "IDictionary`2" && type.ContainingNamespace?.ToDisplayString() == "System.Collections.Generic";

    private static Use ClassifyUse(IFieldReferenceOperation reference, ISymbol containingSymbol, IFieldSymbol field)
    {
        var inInitialization = containingSymbol is IFieldSymbol or IPropertySymbol
                               || (containingSymbol is IMethodSymbol { MethodKind: MethodKind.StaticConstructor } constructor
                                   && SymbolEqualityComparer.Default.Equals(constructor.ContainingType, field.ContainingType));
        var current = OwnershipModel.SkipConversionsUp(reference);
        switch (current.Parent)
        {
            case IInvocationOperation invocation when invocation.Instance == current:
                return ByName(invocation.TargetMethod.Name, inInitialization);
            case IConditionalAccessOperation access when access.Operation == current:
                return access.WhenNotNull is IInvocationOperation call ? ByName(call.TargetMethod.Name, inInitialization) : Use.Read;
            case IPropertyReferenceOperation { Property.IsIndexer: true } indexer when indexer.Instance == current:
                var indexerUse = OwnershipModel.SkipConversionsUp(indexer);
                return indexerUse.Parent is IAssignmentOperation store && store.Target == indexerUse && !inInitialization
                    ? Use.Add
                    : Use.Read;
            case IMemberReferenceOperation member when member.Instance == current:
                return Use.Read;
            case IAssignmentOperation assignment when assignment.Target == current:
                // A reassignment replaces the whole collection; ??= is a lazy first initialization.
                return assignment is ICoalesceAssignmentOperation || inInitialization ? Use.Read : Use.Replace;
            case IArgumentOperation argument when argument.Parameter?.RefKind is RefKind.Ref or RefKind.Out:
                return Use.Replace;
            case IArgumentOperation argument:
                return ClassifyArgument(argument, inInitialization);
            case IForEachLoopOperation:
            case ILockOperation:
            case IBinaryOperation:
            case IIsPatternOperation:
            case IIsTypeOperation:
            case INameOfOperation:
            case IInterpolationOperation:
            case IExpressionStatementOperation:
                return Use.Read;
            default:
                // Copied out (a local, another field, a return) or used in a way not known here: code elsewhere may
                // remove through the copy, so the field is not judged.
                return Use.Escape;
        }
    }

    // The key (or element) an add stores: the first argument of the adding call or of the indexer.
    private static IOperation? KeyOf(IFieldReferenceOperation reference)
    {
        var current = OwnershipModel.SkipConversionsUp(reference);
        var arguments = current.Parent switch
        {
            IInvocationOperation invocation when invocation.Instance == current => invocation.Arguments,
            IConditionalAccessOperation { WhenNotNull: IInvocationOperation call } => call.Arguments,
            IPropertyReferenceOperation indexer when indexer.Instance == current => indexer.Arguments,
            IArgumentOperation { Parent: IInvocationOperation extension } => extension.Arguments.Length > 1 ? extension.Arguments.RemoveAt(0) : default,
            _ => default,
        };
        return arguments.IsDefaultOrEmpty ? null : arguments.FirstOrDefault(a => a.Parameter?.Ordinal == 0 || a.Parameter is null)?.Value ?? arguments[0].Value;
    }

    private static Use ClassifyArgument(IArgumentOperation argument, bool inInitialization)
    {
        if (argument.Parent is IInvocationOperation { TargetMethod: { IsExtensionMethod: true } method }
            && argument.Parameter?.Ordinal == 0)
        {
            if (s_removals.Contains(method.Name))
            {
                return Use.Remove;
            }

            if (s_adds.Contains(method.Name))
            {
                return inInitialization ? Use.Read : Use.Add;
            }

            if (method.ContainingNamespace?.ToDisplayString() == "System.Linq")
            {
                return Use.Read;
            }
        }

        // Handed to code that can only read it (IEnumerable<T>, a read-only view) cannot shrink it either.
        var parameterType = argument.Parameter?.Type;
        if (parameterType is INamedTypeSymbol named
            && (named.Name.StartsWith("IReadOnly", StringComparison.Ordinal) || named.MetadataName is "IEnumerable`1" or "IEnumerable"))
        {
            return Use.Read;
        }

        return Use.Escape;
    }

    private static Use ByName(string method, bool inInitialization)
    {
        if (s_removals.Contains(method))
        {
            return Use.Remove;
        }

        if (s_adds.Contains(method))
        {
            return inInitialization ? Use.Read : method == "GetOrAdd" ? Use.CacheAdd : Use.Add;
        }

        return method == "TryGetValue" ? Use.CacheLookup : Use.Read;
    }

    private enum Use
    {
        Read,
        Add,
        CacheAdd,
        CacheLookup,
        Remove,
        Replace,
        Escape,
    }

    /// <summary>What the compilation does with one field; updated from concurrent callbacks with interlocked flags.</summary>
    private sealed class FieldFacts
    {
        private int _adds;
        private int _shrinks;
        private int _cacheAdds;
        private int _lookups;

        internal bool Grows => Volatile.Read(ref _adds) != 0;

        internal bool Shrinks => Volatile.Read(ref _shrinks) != 0;

        internal bool UsedAsCache => Volatile.Read(ref _cacheAdds) != 0 || (Volatile.Read(ref _lookups) != 0 && Grows);

        // Keys that are not constants, or parameters of non-public methods (whose callers are all in this compilation).
        private readonly ConcurrentDictionary<(IMethodSymbol Method, int Ordinal), bool> _keyParameters = new();
        private int _variableKeys;

        internal void NoteKey(IOperation? key, ISymbol containingSymbol)
        {
            switch (OwnershipModel.SkipConversionsDown(key))
            {
                case { ConstantValue.HasValue: true }:
                    break;
                case IParameterReferenceOperation { Parameter: { ContainingSymbol: IMethodSymbol method } parameter }
                    when SymbolEqualityComparer.Default.Equals(method, containingSymbol)
                         && !IsVisibleOutside(method)
                         && method.MethodKind == MethodKind.Ordinary:
                    _keyParameters[(method.OriginalDefinition, parameter.Ordinal)] = true;
                    break;
                default:
                    Interlocked.Exchange(ref _variableKeys, 1);
                    break;
            }
        }

        /// <summary>
        /// Whether every add stores a constant: a literal, or a parameter of a non-public method that every call in the
        /// compilation passes a constant (a table of block kinds, not of requests). Walks the syntax trees only for such
        /// fields, which are rare.
        /// </summary>
        private static bool IsVisibleOutside(ISymbol symbol)
        {
            for (var current = symbol; current is not null and not INamespaceSymbol; current = current.ContainingSymbol)
            {
                if (current.DeclaredAccessibility is not (Accessibility.Public or Accessibility.Protected or Accessibility.ProtectedOrInternal))
                {
                    return false;
                }
            }

            return true;
        }

        internal bool KeysAreConstant(Compilation compilation, CancellationToken cancellationToken)
        {
            if (Volatile.Read(ref _variableKeys) != 0)
            {
                return false;
            }

            foreach (var (method, ordinal) in _keyParameters.Keys)
            {
                // No call seen proves nothing: the method may be reached through a delegate, reflection or a friend assembly.
                bool called = false;
                foreach (var tree in compilation.SyntaxTrees)
                {
                    var root = tree.GetRoot(cancellationToken);
                    SemanticModel? model = null;
                    foreach (var call in root.DescendantNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.InvocationExpressionSyntax>())
                    {
                        var name = call.Expression switch
                        {
                            Microsoft.CodeAnalysis.CSharp.Syntax.MemberAccessExpressionSyntax access => access.Name.Identifier.ValueText,
                            Microsoft.CodeAnalysis.CSharp.Syntax.SimpleNameSyntax simple => simple.Identifier.ValueText,
                            _ => null,
                        };
                        if (name != method.Name)
                        {
                            continue;
                        }

#pragma warning disable RS1030 // The compilation-end action has no semantic model of its own: it reads the trees that call the method.
                        model ??= compilation.GetSemanticModel(tree);
#pragma warning restore RS1030
                        if (model.GetOperation(call, cancellationToken) is not IInvocationOperation invocation
                            || !SymbolEqualityComparer.Default.Equals(invocation.TargetMethod.OriginalDefinition, method))
                        {
                            continue;
                        }

                        var argument = invocation.Arguments.FirstOrDefault(a => a.Parameter?.Ordinal == ordinal);
                        if (argument is null || !OwnershipModel.SkipConversionsDown(argument.Value)!.ConstantValue.HasValue)
                        {
                            return false;
                        }

                        called = true;
                    }
                }

                if (!called)
                {
                    return false;
                }
            }

            return true;
        }

        internal void Note(Use use)
        {
            switch (use)
            {
                case Use.Add:
                    Interlocked.Exchange(ref _adds, 1);
                    break;
                case Use.CacheAdd:
                    Interlocked.Exchange(ref _adds, 1);
                    Interlocked.Exchange(ref _cacheAdds, 1);
                    break;
                case Use.CacheLookup:
                    Interlocked.Exchange(ref _lookups, 1);
                    break;
                case Use.Remove:
                case Use.Replace:
                case Use.Escape:
                    Interlocked.Exchange(ref _shrinks, 1);
                    break;
            }
        }
    }
}
