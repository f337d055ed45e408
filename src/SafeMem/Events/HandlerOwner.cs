using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace SafeMem.Events;

/// <summary>
/// Finds the object a handler should live as long as: the instance of an instance method, the <c>this</c> a
/// compiler-generated closure captured, or nothing (static methods and non-capturing lambdas, held strongly).
/// </summary>
/// <remarks>
/// The C# compiler emits a capturing lambda as a method on a closure class (<c>&lt;&gt;c__DisplayClass…</c>) whose
/// only reference is the delegate; holding the delegate weakly would lose the subscription at the next collection.
/// The closure's captured <c>this</c> sits in its <c>&lt;&gt;4__this</c> field, or in a parent closure reached through
/// <c>CS$&lt;&gt;8__locals…</c> fields (Visual Basic: <c>$VB$Me</c> and <c>$VB$NonLocal_…</c>). Non-capturing lambdas
/// target the per-class <c>&lt;&gt;c</c> singleton, which lives forever, so they behave like static methods. The per-type analysis is cached in a
/// <see cref="ConditionalWeakTable{TKey, TValue}"/> so types of collectible assemblies are not rooted.
/// </remarks>
internal static class HandlerOwner
{
    private const int MaximumClosureDepth = 16;

    private static readonly ConditionalWeakTable<Type, TargetShape> s_shapes = new();

    /// <summary>
    /// Returns the object <paramref name="handler"/> (a single-cast delegate) lives as long as, or
    /// <see langword="null"/> when it has none and is held strongly.
    /// </summary>
    /// <exception cref="ArgumentException">The handler is a closure with no owner that can be found.</exception>
    public static object? Find(Delegate handler, string parameterName)
    {
        object? target = handler.Target;
        for (int depth = 0; target is not null && depth < MaximumClosureDepth; depth++)
        {
            if (target is ValueType)
            {
                // A method of a struct instance: the delegate holds a box of its own, nothing else references it.
                ThrowBoxedTarget(parameterName);
            }

            Type type = target.GetType();
            if (target is not Delegate && !MayBeCompilerGenerated(type.Name))
            {
                // The common case (an instance method of an ordinary type) decided without the table lookup. A
                // WeakEventSubscription forwarder lives as long as its subscriber: nothing else would keep it alive here.
                return target is IWeakForwarder forwarder ? forwarder.Subscriber ?? target : target;
            }

            TargetShape shape = ShapeOf(type);
            switch (shape.Kind)
            {
                case TargetKind.Instance:
                    return target;
                case TargetKind.Singleton:
                    return null;
                case TargetKind.Delegate:
                    // e.g. new EventHandler<T>(other.Invoke): the wrapper lives as long as the wrapped handler's owner.
                    var inner = (Delegate)target;
                    if (!IsSingleCast(inner))
                    {
                        ThrowNoOwner(parameterName);
                    }

                    target = inner.Target;
                    break;
                default:
                    return FindClosureOwner(target, 0) ?? ThrowNoOwner(parameterName);
            }
        }

        return target is null ? null : ThrowNoOwner(parameterName);
    }

    /// <summary>Rejects an explicit owner that cannot have a lifetime of its own (a boxed value type).</summary>
    /// <exception cref="ArgumentException"><paramref name="owner"/> is a boxed value type.</exception>
    public static void ThrowIfNoLifetime(object owner, string parameterName)
    {
        if (owner is ValueType)
        {
            throw new ArgumentException(
                $"The owner is a boxed value type ({owner.GetType()}): the box is a copy that nothing else references, so "
                + "the subscription would silently end at the next garbage collection. Pass the class instance whose "
                + "lifetime the subscription should share.",
                parameterName);
        }
    }

    /// <summary>
    /// Returns whether <paramref name="handler"/>'s target is <paramref name="value"/> or a closure that captured it
    /// (directly or through parent closures).
    /// </summary>
    public static bool Captures(Delegate handler, object value)
    {
        object? target = handler.Target;
        return target is not null && Captures(target, value, 0);
    }

    public static bool IsSingleCast(Delegate handler)
#if NET9_0_OR_GREATER
        => handler.HasSingleTarget;
#else
        => handler.GetInvocationList().Length == 1;
#endif

    private static bool Captures(object target, object value, int depth)
    {
        if (ReferenceEquals(target, value))
        {
            return true;
        }

        TargetShape shape = ShapeOf(target.GetType());
        if (shape.Kind != TargetKind.Closure || depth >= MaximumClosureDepth)
        {
            return false;
        }

        foreach (FieldInfo field in shape.Fields)
        {
            if (field.GetValue(target) is { } captured
                && (ReferenceEquals(captured, value) || (IsClosureType(captured.GetType()) && Captures(captured, value, depth + 1))))
            {
                return true;
            }
        }

        return false;
    }

    private static object? FindClosureOwner(object closure, int depth)
    {
        TargetShape shape = ShapeOf(closure.GetType());
        if (shape.ThisField?.GetValue(closure) is { } owner)
        {
            return owner;
        }

        // A handler that a WeakEventSubscription factory built around its WeakSubscriber lives as long as the subscriber.
        foreach (FieldInfo field in shape.Fields)
        {
            if (field.GetValue(closure) is IWeakForwarder forwarder)
            {
                return forwarder.Subscriber ?? forwarder;
            }
        }

        if (depth < MaximumClosureDepth)
        {
            foreach (FieldInfo parent in shape.ParentFields)
            {
                if (parent.GetValue(closure) is { } parentClosure && FindClosureOwner(parentClosure, depth + 1) is { } found)
                {
                    return found;
                }
            }
        }

        return null;
    }

    // Closure and lambda-cache classes have names no user type can have in C# ("<>c...") or VB ("_Closure$...").
    private static bool MayBeCompilerGenerated(string name) => name.Length > 0 && name[0] is '<' or '_';

    private static TargetShape ShapeOf(Type type) => s_shapes.GetValue(type, static t => TargetShape.Create(t));

    private static bool IsClosureType(Type type) => ShapeOf(type).Kind == TargetKind.Closure;

    [DoesNotReturn]
    private static object ThrowNoOwner(string parameterName)
        => throw new ArgumentException(
            "This event holds its handlers weakly (it is backed by a SafeMem WeakEventSource), and the handler is a lambda "
            + "or local function that captures local variables but not 'this': nothing but the subscription would "
            + "reference it, so it would silently stop firing at the next garbage collection. Subscribe instead: an "
            + "instance method, or a lambda that uses 'this' (the subscription then lives as long as that object); a "
            + "lambda that captures nothing (held until removed); or, from code that only has the event's +=, "
            + "WeakEventSubscription.Subscribe(publisher, owner, add, remove, handler), which keeps the handler and what it "
            + "captured for as long as 'owner' lives. Code that owns the WeakEventSource can call Add(owner, handler).",
            parameterName);

    [DoesNotReturn]
    private static void ThrowBoxedTarget(string parameterName)
        => throw new ArgumentException(
            "The handler is a method of a struct instance: the delegate holds its own boxed copy of the struct, which "
            + "nothing else references, so the subscription would silently stop firing at the next garbage collection. "
            + "Subscribe a method of a class instance, or a lambda that uses the object the subscription should live as "
            + "long as; code that owns the WeakEventSource can call Add(owner, handler) with a class instance as the owner.",
            parameterName);

    private enum TargetKind
    {
        Instance,
        Singleton,
        Delegate,
        Closure,
    }

    private sealed class TargetShape
    {
        private TargetShape(TargetKind kind, FieldInfo? thisField, FieldInfo[] parentFields, FieldInfo[] fields)
        {
            Kind = kind;
            ThisField = thisField;
            ParentFields = parentFields;
            Fields = fields;
        }

        public TargetKind Kind { get; }

        public FieldInfo? ThisField { get; }

        public FieldInfo[] ParentFields { get; }

        public FieldInfo[] Fields { get; }

        [UnconditionalSuppressMessage(
            "Trimming",
            "IL2070",
            Justification = "Only compiler-generated closure classes are reflected on. Their fields are read by the "
                + "lambda bodies that live in them, so the trimmer keeps the fields. If field metadata is unavailable "
                + "(e.g. Native AOT without reflection data), no owner is found and the caller gets an "
                + "ArgumentException asking for Add(owner, handler): never a silently lost subscription.")]
        public static TargetShape Create(Type type)
        {
            if (typeof(Delegate).IsAssignableFrom(type))
            {
                return new TargetShape(TargetKind.Delegate, null, [], []);
            }

            string name = type.Name;
            // Closures have unspeakable names as well as the attribute; a user type that a generator marked
            // [CompilerGenerated] is still an ordinary instance.
            if (!type.IsDefined(typeof(CompilerGeneratedAttribute), inherit: false)
                || !(name.StartsWith('<') || name.StartsWith("_Closure$", StringComparison.Ordinal)))
            {
                return new TargetShape(TargetKind.Instance, null, [], []);
            }

            // "<>c" (or "<>c__N`K" for lambdas in generic methods) is C#'s cache class of non-capturing lambdas, and
            // "_Closure$__" Visual Basic's: its only instance is a static singleton, so the lambda lives forever,
            // like a static method. Decided by name, not by reading the singleton field, so it needs no reflection
            // metadata.
            if ((name.StartsWith("<>c", StringComparison.Ordinal) && !name.StartsWith("<>c__DisplayClass", StringComparison.Ordinal))
                || name == "_Closure$__" || name.StartsWith("_Closure$__`", StringComparison.Ordinal))
            {
                return new TargetShape(TargetKind.Singleton, null, [], []);
            }

            // Any other compiler-generated target is treated as a closure: its owner must be found, or the caller
            // is told to give one. Never treating it as an ordinary instance is what keeps a subscription from
            // silently dying with an object nothing else references.
            FieldInfo[] fields = type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);
            FieldInfo? thisField = null;
            var parents = new List<FieldInfo>();
            foreach (FieldInfo field in fields)
            {
                if (field.Name is "<>4__this" or "$VB$Me")
                {
                    thisField = field;
                }
                else if (field.Name.StartsWith("CS$<>8__locals", StringComparison.Ordinal)
                    || field.Name.StartsWith("$VB$NonLocal_", StringComparison.Ordinal))
                {
                    parents.Add(field);
                }
            }

            return new TargetShape(TargetKind.Closure, thisField, [.. parents], fields);
        }
    }
}
