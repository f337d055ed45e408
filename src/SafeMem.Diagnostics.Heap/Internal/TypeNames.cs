using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Diagnostics.Runtime;

namespace SafeMem.Diagnostics.Heap.Internal;

/// <summary>
/// Turns the types and fields found in a dump into names a person recognises: C# spelling without namespaces,
/// closures named after the method that made them, async and iterator state machines after their method, hoisted
/// locals, property backing fields and field-like events after what the source called them.
/// </summary>
/// <remarks>
/// When the dump is of this very process, a method table address in it is a live type handle here: reflection on the
/// real <see cref="Type"/> reads names from metadata instead of parsing ClrMD's strings. A dump of another process, and
/// types of collectible assemblies (their handle may be gone by the time the dump is read), keep ClrMD's names, put
/// into C# spelling. One instance per dump; not thread-safe (one dump, one caller).
/// </remarks>
internal sealed partial class TypeNames(bool resolveThroughReflection)
{
    private const BindingFlags AllDeclared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    // Held through an engine type, so that a snapshot of this process counts the cache as the inspection's footprint.
    private static readonly NameCache s_fullNames = new();

    private static readonly Dictionary<string, string> s_clrKeywords = new(StringComparer.Ordinal)
    {
        ["Object"] = "object", ["String"] = "string", ["Boolean"] = "bool", ["Char"] = "char", ["SByte"] = "sbyte",
        ["Byte"] = "byte", ["Int16"] = "short", ["UInt16"] = "ushort", ["Int32"] = "int", ["UInt32"] = "uint",
        ["Int64"] = "long", ["UInt64"] = "ulong", ["Single"] = "float", ["Double"] = "double", ["Decimal"] = "decimal",
        ["IntPtr"] = "nint", ["UIntPtr"] = "nuint",
    };

    private static readonly Dictionary<Type, string> s_keywords = new()
    {
        [typeof(object)] = "object", [typeof(string)] = "string", [typeof(bool)] = "bool", [typeof(char)] = "char",
        [typeof(byte)] = "byte", [typeof(sbyte)] = "sbyte", [typeof(short)] = "short", [typeof(ushort)] = "ushort",
        [typeof(int)] = "int", [typeof(uint)] = "uint", [typeof(long)] = "long", [typeof(ulong)] = "ulong",
        [typeof(float)] = "float", [typeof(double)] = "double", [typeof(decimal)] = "decimal",
        [typeof(nint)] = "nint", [typeof(nuint)] = "nuint",
    };

    /// <summary>Gets whether the dump is of this process, so that its types resolve through reflection.</summary>
    public bool ResolvesThroughReflection => resolveThroughReflection;

    /// <summary>The reflection type behind a dump type, or <see langword="null"/> when it cannot be resolved safely.</summary>
    /// <remarks>
    /// No cache: the runtime already keeps one type object per loaded type, so the lookup allocates nothing, and a
    /// static cache here would be process-lifetime state in a library about not leaking. Callers that resolve per
    /// object cache per walk.
    /// </remarks>
    public Type? Resolve(ClrType? type)
    {
        if (!resolveThroughReflection || type is null || type.IsFree || type.MethodTable == 0 || type.IsCollectible)
        {
            return null;
        }

        try
        {
            return Type.GetTypeFromHandle(RuntimeTypeHandle.FromIntPtr(unchecked((nint)type.MethodTable)));
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    /// <summary>The full C# name of a type (namespaces kept), for headers.</summary>
    public static string Full(Type type) => Format(type, qualify: true);

    /// <summary>The short C# name of a type (no namespaces).</summary>
    public static string Short(Type type) => Format(type, qualify: false);

    /// <summary>The short display name of a dump type.</summary>
    public string Display(ClrType? type)
        => Resolve(type) is { } resolved ? Format(resolved, qualify: false)
            : type?.Name is { } name ? StripNamespaces(Keywords(name))
            : "<unknown type>";

    /// <summary>The full name of a dump type, for headers and snapshot rows.</summary>
    public string FullName(ClrType? type)
        => Resolve(type) is { } resolved ? CachedFull(resolved) : type?.Name is { } name ? Keywords(name.Replace('+', '.')) : "<unknown type>";

    // One string per type for the life of the type: snapshots of this process kept side by side (a growth series)
    // would otherwise each hold their own copy of every type name, and the next snapshot would count those strings as
    // growth in proportion to the snapshots taken. Weak on the type, so it holds nothing a type's unloading needs.
    private static string CachedFull(Type type) => s_fullNames.Table.GetValue(type, static t => Format(t, qualify: true));

    /// <summary>The display name of a field: what the source code called the thing the compiler stored there.</summary>
    public string Field(Type? declaringType, string name)
    {
        if (name == "StateMachine" && declaringType?.Name.StartsWith("AsyncStateMachineBox", StringComparison.Ordinal) == true)
        {
            // The box holds the state machine inline; its hoisted locals are what a person looks for.
            return string.Empty;
        }

        if (name.StartsWith("CS$<>8__locals", StringComparison.Ordinal))
        {
            return "<outer closure>";
        }

        if (name.StartsWith('<'))
        {
            int close = name.IndexOf('>', StringComparison.Ordinal);
            string inner = close > 1 ? name[1..close] : string.Empty;
            string suffix = close >= 0 ? name[(close + 1)..] : string.Empty;
            return suffix switch
            {
                "4__this" => "this",
                "1__state" => "<state>",
                "t__builder" => "<builder>",
                "k__BackingField" => inner,
                "P" => inner,
                _ when suffix.StartsWith("5__", StringComparison.Ordinal) => inner,
                _ when suffix.StartsWith("u__", StringComparison.Ordinal) => "<awaiter>",
                _ when suffix.StartsWith("9__", StringComparison.Ordinal) => "<cached delegate>",
                _ when suffix == "9" => "<instance>",
                _ when inner.Length > 0 => inner,
                _ => name,
            };
        }

        // A field-like event compiles to a private field of the same name: say it is the event.
        if (declaringType?.GetEvent(name, AllDeclared) is not null)
        {
            return name + " (event)";
        }

        return name;
    }

    /// <summary>A method as a person would name it: lambdas and local functions by the method that contains them.</summary>
    public string Method(ClrMethod? method)
    {
        if (method is null)
        {
            return "<unknown method>";
        }

        string name = method.Name ?? "?";
        Type? type = Resolve(method.Type);
        Match lambda = LambdaPattern().Match(name);
        if (lambda.Success)
        {
            // Lambdas live on a closure class, on the "<>c" cache class, or on the type itself (when they capture only
            // this); either way the declaring user type and the method in the name are what a person wrote.
            Type? owner = type is not null && type.Name.StartsWith('<') ? DeclaringType(type) : type;
            string ownerName = owner is not null ? Format(owner, qualify: false) : Display(method.Type);
            string kind = lambda.Groups[2].Value == "g" ? "local function" : "lambda";
            return $"{kind} in {ownerName}.{lambda.Groups[1].Value}";
        }

        string display = type is not null ? Format(type, qualify: false) : Display(method.Type);
        if (name == "MoveNext" && display.StartsWith('('))
        {
            // A state machine resuming: the method it belongs to says more than MoveNext.
            return display.Trim('(', ')').Replace("task of ", string.Empty, StringComparison.Ordinal);
        }

        return $"{display}.{name}";
    }

    private static string Format(Type type, bool qualify)
    {
        if (type.IsArray)
        {
            return Format(type.GetElementType()!, qualify) + "[" + new string(',', type.GetArrayRank() - 1) + "]";
        }

        if (type.IsPointer || type.IsByRef)
        {
            return Format(type.GetElementType()!, qualify) + (type.IsPointer ? "*" : "&");
        }

        if (type.IsGenericParameter)
        {
            return type.Name;
        }

        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            return Format(underlying, qualify) + "?";
        }

        if (s_keywords.TryGetValue(type, out string? keyword))
        {
            return keyword;
        }

        if (type.Name.StartsWith('<') || (type.Name.StartsWith("AsyncStateMachineBox", StringComparison.Ordinal) && type.IsGenericType))
        {
            // In parentheses, so that "(closure in Type.Method).local" reads as a field of the closure.
            return "(" + CompilerGenerated(type, qualify) + ")";
        }

        var builder = new StringBuilder();
        if (DeclaringType(type) is { } outer)
        {
            builder.Append(Format(outer, qualify)).Append('.');
        }
        else if (qualify && !string.IsNullOrEmpty(type.Namespace))
        {
            builder.Append(type.Namespace).Append('.');
        }

        string name = type.Name;
        int tick = name.IndexOf('`', StringComparison.Ordinal);
        builder.Append(tick < 0 ? name : name[..tick]);
        if (type.IsGenericType && tick >= 0)
        {
            Type[] arguments = type.GetGenericArguments();
            int own = int.Parse(name[(tick + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            builder.Append('<')
                .AppendJoin(", ", arguments.Skip(arguments.Length - own).Select(a => Format(a, qualify: false)))
                .Append('>');
        }

        return builder.ToString();
    }

    private static string CompilerGenerated(Type type, bool qualify)
    {
        string owner = DeclaringType(type) is { } declaring ? Format(declaring, qualify) : type.Namespace ?? string.Empty;
        string name = type.Name;
        if (name.StartsWith("AsyncStateMachineBox", StringComparison.Ordinal))
        {
            // The heap object behind a running async method: the box holds the state machine (its locals) inline.
            return $"task of {Format(type.GetGenericArguments()[^1], qualify).Trim('(', ')')}";
        }

        if (name.StartsWith("<>c__DisplayClass", StringComparison.Ordinal))
        {
            string? method = type.GetMethods(AllDeclared)
                .Select(m => LambdaPattern().Match(m.Name))
                .Where(m => m.Success)
                .Select(m => m.Groups[1].Value)
                .FirstOrDefault();
            return method is null ? $"closure in {owner}" : $"closure in {owner}.{method}";
        }

        if (name == "<>c")
        {
            return $"lambdas of {owner}";
        }

        if (name.StartsWith("<>f__AnonymousType", StringComparison.Ordinal))
        {
            return "anonymous type";
        }

        Match stateMachine = StateMachinePattern().Match(name);
        if (stateMachine.Success)
        {
            string kind = typeof(IAsyncStateMachine).IsAssignableFrom(type) ? "async" : "iterator";
            return $"{kind} {owner}.{stateMachine.Groups[1].Value}";
        }

        return owner.Length == 0 ? name : $"{owner}.{name}";
    }

    // A nested type of a generic type reports the open definition as its declaring type; close it with the nested
    // type's leading arguments so that Dictionary<int, string>.Entry does not print as Dictionary<TKey, TValue>.Entry.
    private static Type? DeclaringType(Type type)
    {
        if (!type.IsNested || type.DeclaringType is not { } outer)
        {
            return null;
        }

        if (outer.IsGenericTypeDefinition && type.IsConstructedGenericType)
        {
            Type[] arguments = type.GetGenericArguments();
            int count = outer.GetGenericArguments().Length;
            try
            {
                return outer.MakeGenericType(arguments[..count]);
            }
            catch (ArgumentException)
            {
                return outer;
            }
        }

        return outer;
    }

    // ClrMD spells built-in types by their full names (System.Int32[], Outer<System.String>.Inner); C# by keywords.
    private static string Keywords(string clrName)
        => clrName.Contains("System.", StringComparison.Ordinal)
            ? BuiltInPattern().Replace(clrName, match => s_clrKeywords[match.Groups[1].Value])
            : clrName;

    private static string StripNamespaces(string clrName)
        => NamespacePattern().Replace(clrName, string.Empty).Replace('+', '.');

    [GeneratedRegex(@"(?<![\w.])System\.(Object|String|Boolean|Char|SByte|Byte|Int16|UInt16|Int32|UInt32|Int64|UInt64|Single|Double|Decimal|IntPtr|UIntPtr)(?![\w.])")]
    private static partial Regex BuiltInPattern();

    [GeneratedRegex(@"^<([^>]+)>([bg])__")]
    private static partial Regex LambdaPattern();

    [GeneratedRegex(@"^<([^>]+)>d__\d+")]
    private static partial Regex StateMachinePattern();

    [GeneratedRegex(@"\b(?:[A-Za-z_][A-Za-z0-9_]*\.)+(?=[A-Za-z_<])")]
    private static partial Regex NamespacePattern();

    private sealed class NameCache
    {
        public ConditionalWeakTable<Type, string> Table { get; } = [];
    }
}
