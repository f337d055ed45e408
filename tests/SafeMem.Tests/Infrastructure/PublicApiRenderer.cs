using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;

namespace SafeMem.Tests.Infrastructure;

/// <summary>
/// Renders an assembly's public surface (public and protected members of exported types) as sorted, C#-like lines,
/// so that committing the rendering makes every API change a visible diff in review.
/// </summary>
public static class PublicApiRenderer
{
    private const BindingFlags DeclaredMembers =
        BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static readonly Dictionary<Type, string> s_keywords = new()
    {
        [typeof(void)] = "void", [typeof(object)] = "object", [typeof(string)] = "string", [typeof(bool)] = "bool",
        [typeof(byte)] = "byte", [typeof(sbyte)] = "sbyte", [typeof(short)] = "short", [typeof(ushort)] = "ushort",
        [typeof(int)] = "int", [typeof(uint)] = "uint", [typeof(long)] = "long", [typeof(ulong)] = "ulong",
        [typeof(float)] = "float", [typeof(double)] = "double", [typeof(decimal)] = "decimal", [typeof(char)] = "char",
        [typeof(nint)] = "nint", [typeof(nuint)] = "nuint",
    };

    public static string Render(Assembly assembly)
    {
        var nullability = new NullabilityInfoContext();
        var builder = new StringBuilder();
        foreach (Type type in assembly.GetExportedTypes().OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            builder.Append(RenderTypeHeader(type)).Append('\n');
            foreach (string member in RenderMembers(type, nullability).Order(StringComparer.Ordinal))
            {
                builder.Append("  ").Append(member).Append('\n');
            }
        }

        return builder.ToString();
    }

    private static string RenderTypeHeader(Type type)
    {
        string kind = type.IsInterface ? "interface"
            : type.IsEnum ? "enum"
            : type.IsValueType ? (IsReadOnly(type) ? "readonly struct" : "struct")
            : typeof(Delegate).IsAssignableFrom(type.BaseType) ? "delegate"
            : type.IsAbstract && type.IsSealed ? "static class"
            : type.IsAbstract ? "abstract class"
            : type.IsSealed ? "sealed class"
            : "class";
        var header = new StringBuilder($"{kind} {type.Namespace}.{DeclaredName(type)}");
        var bases = new List<string>();
        if (type.BaseType is { } baseType && baseType != typeof(object) && baseType != typeof(ValueType)
            && baseType != typeof(Enum) && baseType != typeof(MulticastDelegate))
        {
            bases.Add(TypeName(baseType, null));
        }

        if (!type.IsEnum)
        {
            bases.AddRange(type.GetInterfaces().Where(i => i.IsPublic || i.IsNestedPublic).Select(i => TypeName(i, null)).Order(StringComparer.Ordinal));
        }
        if (bases.Count > 0)
        {
            header.Append(" : ").Append(string.Join(", ", bases));
        }

        if (type.IsGenericTypeDefinition)
        {
            foreach (Type parameter in type.GetGenericArguments())
            {
                string constraints = Constraints(parameter);
                if (constraints.Length > 0)
                {
                    header.Append(" where ").Append(parameter.Name).Append(" : ").Append(constraints);
                }
            }
        }

        return header.ToString();
    }

    private static IEnumerable<string> RenderMembers(Type type, NullabilityInfoContext nullability)
    {
        if (type.IsEnum)
        {
            foreach (FieldInfo field in type.GetFields(BindingFlags.Public | BindingFlags.Static))
            {
                yield return $"{field.Name} = {Convert.ToInt64(field.GetRawConstantValue(), System.Globalization.CultureInfo.InvariantCulture)}";
            }

            yield break;
        }

        foreach (MemberInfo member in type.GetMembers(DeclaredMembers))
        {
            if (!IsVisible(member) || member.IsDefined(typeof(CompilerGeneratedAttribute)))
            {
                continue;
            }

            switch (member)
            {
                case ConstructorInfo ctor when !ctor.IsStatic:
                    yield return $"{Access(ctor)}ctor({Parameters(ctor, nullability)})";
                    break;
                case MethodInfo method when !method.IsSpecialName || method.Name.StartsWith("op_", StringComparison.Ordinal):
                    string generics = method.IsGenericMethodDefinition
                        ? "<" + string.Join(", ", method.GetGenericArguments().Select(a => a.Name)) + ">"
                        : string.Empty;
                    string constraints = string.Concat(method.GetGenericArguments()
                        .Select(a => (a.Name, Constraints(a)))
                        .Where(c => c.Item2.Length > 0)
                        .Select(c => $" where {c.Name} : {c.Item2}"));
                    yield return $"{Access(method)}{Modifiers(method)}{TypeName(method.ReturnType, nullability.Create(method.ReturnParameter))} {method.Name}{generics}({Parameters(method, nullability)}){constraints}";
                    break;
                case PropertyInfo property:
                    MethodInfo accessor = (property.GetMethod ?? property.SetMethod)!;
                    string accessors = string.Concat(
                        property.GetMethod is { } g && IsVisible(g) ? " get;" : string.Empty,
                        property.SetMethod is { } s && IsVisible(s) ? (IsInitOnly(s) ? " init;" : " set;") : string.Empty);
                    string indexer = property.GetIndexParameters().Length > 0
                        ? "this[" + string.Join(", ", property.GetIndexParameters().Select(p => $"{TypeName(p.ParameterType, nullability.Create(p))} {p.Name}")) + "]"
                        : property.Name;
                    yield return $"{Access(accessor)}{Modifiers(accessor)}{TypeName(property.PropertyType, nullability.Create(property))} {indexer} {{{accessors} }}";
                    break;
                case FieldInfo field:
                    string fieldModifiers = field.IsLiteral ? "const " : (field.IsStatic ? "static " : string.Empty) + (field.IsInitOnly ? "readonly " : string.Empty);
                    string value = field.IsLiteral ? " = " + Literal(field.GetRawConstantValue()) : string.Empty;
                    yield return $"{(field.IsPublic ? "public " : "protected ")}{fieldModifiers}{TypeName(field.FieldType, nullability.Create(field))} {field.Name}{value}";
                    break;
                case EventInfo @event:
                    yield return $"{Access(@event.AddMethod!)}{Modifiers(@event.AddMethod!)}event {TypeName(@event.EventHandlerType!, nullability.Create(@event))} {@event.Name}";
                    break;
                case Type nested:
                    // Nested public types are rendered as exported types of their own.
                    _ = nested;
                    break;
            }
        }
    }

    private static bool IsVisible(MemberInfo member) => member switch
    {
        MethodBase m => m.IsPublic || m.IsFamily || m.IsFamilyOrAssembly,
        FieldInfo f => f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly,
        PropertyInfo p => (p.GetMethod is { } g && IsVisible(g)) || (p.SetMethod is { } s && IsVisible(s)),
        EventInfo e => e.AddMethod is { } a && IsVisible(a),
        _ => false,
    };

    private static string Access(MethodBase method) => method.IsPublic ? "public " : "protected ";

    private static string Modifiers(MethodInfo method)
    {
        if (method.IsStatic)
        {
            return "static ";
        }

        if (method.DeclaringType!.IsInterface)
        {
            return string.Empty;
        }

        if (method.IsAbstract)
        {
            return "abstract ";
        }

        if (method.IsVirtual && !method.IsFinal)
        {
            return method.GetBaseDefinition() == method ? "virtual " : "override ";
        }

        return method.IsVirtual && method.GetBaseDefinition() != method ? "sealed override " : string.Empty;
    }

    private static string Parameters(MethodBase method, NullabilityInfoContext nullability)
        => string.Join(", ", method.GetParameters().Select(p =>
        {
            string prefix = p.IsDefined(typeof(ParamArrayAttribute)) ? "params "
                : p.ParameterType.IsByRef ? (p.IsOut ? "out " : p.IsIn ? "in " : "ref ")
                : string.Empty;
            string defaultValue = p.HasDefaultValue ? " = " + Literal(p.DefaultValue) : string.Empty;
            return $"{prefix}{TypeName(p.ParameterType, nullability.Create(p))} {p.Name}{defaultValue}";
        }));

    private static string Literal(object? value) => value switch
    {
        null => "null",
        string s => $"\"{s}\"",
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "null",
    };

    private static string Constraints(Type parameter)
    {
        var parts = new List<string>();
        GenericParameterAttributes attributes = parameter.GenericParameterAttributes;
        if ((attributes & GenericParameterAttributes.ReferenceTypeConstraint) != 0)
        {
            parts.Add("class");
        }

        if ((attributes & GenericParameterAttributes.NotNullableValueTypeConstraint) != 0)
        {
            parts.Add("struct");
        }
        else if (parameter.CustomAttributes.Any(a => a.AttributeType.Name == "NullableAttribute"
            && a.ConstructorArguments.Count == 1 && a.ConstructorArguments[0].Value is byte b && b == 1))
        {
            parts.Add("notnull");
        }

        parts.AddRange(parameter.GetGenericParameterConstraints().Where(c => c != typeof(ValueType)).Select(c => TypeName(c, null)));
        if ((attributes & GenericParameterAttributes.DefaultConstructorConstraint) != 0
            && (attributes & GenericParameterAttributes.NotNullableValueTypeConstraint) == 0)
        {
            parts.Add("new()");
        }

        return string.Join(", ", parts);
    }

    private static string TypeName(Type type, NullabilityInfo? nullability)
    {
        if (type.IsByRef)
        {
            return TypeName(type.GetElementType()!, nullability?.ElementType ?? nullability);
        }

        if (type.IsArray)
        {
            return TypeName(type.GetElementType()!, nullability?.ElementType) + "[]" + NullableMark(type, nullability);
        }

        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            return TypeName(underlying, null) + "?";
        }

        if (type.IsGenericParameter)
        {
            return type.Name + NullableMark(type, nullability);
        }

        if (s_keywords.TryGetValue(type, out string? keyword))
        {
            return keyword + NullableMark(type, nullability);
        }

        string name = type.IsNested ? TypeName(type.DeclaringType!, null) + "." + StripArity(type.Name) : QualifiedName(type);
        if (type.IsGenericType)
        {
            Type[] arguments = type.GetGenericArguments();
            NullabilityInfo[]? argumentNullability = nullability?.GenericTypeArguments;
            int own = arguments.Length - (type.IsNested ? type.DeclaringType!.GetGenericArguments().Length : 0);
            if (own > 0)
            {
                name += "<" + string.Join(", ", arguments.Skip(arguments.Length - own).Select((a, i) =>
                    TypeName(a, argumentNullability is { } n && n.Length == arguments.Length ? n[arguments.Length - own + i] : null))) + ">";
            }
        }

        return name + NullableMark(type, nullability);
    }

    private static string DeclaredName(Type type)
    {
        // The header already names the namespace: render nesting and generic parameters only.
        string name = type.IsNested ? DeclaredName(type.DeclaringType!) + "." + StripArity(type.Name) : StripArity(type.Name);
        Type[] own = type.GetGenericArguments().Skip(type.IsNested ? type.DeclaringType!.GetGenericArguments().Length : 0).ToArray();
        return own.Length == 0 ? name : name + "<" + string.Join(", ", own.Select(a => a.Name)) + ">";
    }

    private static string QualifiedName(Type type)
    {
        string name = StripArity(type.Name);
        // Keep names short for the project's own and the core BCL namespaces; qualify everything else.
        return type.Namespace is null || type.Namespace == "System" || type.Namespace.StartsWith("SafeMem", StringComparison.Ordinal)
            ? name
            : type.Namespace + "." + name;
    }

    private static string StripArity(string name)
    {
        int tick = name.IndexOf('`', StringComparison.Ordinal);
        return tick < 0 ? name : name[..tick];
    }

    private static string NullableMark(Type type, NullabilityInfo? nullability)
        => !type.IsValueType && nullability?.ReadState == NullabilityState.Nullable ? "?" : string.Empty;

    private static bool IsInitOnly(MethodInfo setter)
        => setter.ReturnParameter.GetRequiredCustomModifiers().Contains(typeof(IsExternalInit));

    private static bool IsReadOnly(Type type) => type.IsDefined(typeof(IsReadOnlyAttribute));
}
