using System.Text;

namespace SafeMem.Disposal;

/// <summary>
/// Writes a type's name as C# does (<c>System.Collections.Generic.List&lt;int&gt;</c>, <c>Outer&lt;int&gt;.Inner</c>,
/// <c>int?</c>, <c>int[][,]</c>), for reports, the resource-type tag and the statistics keys.
/// </summary>
/// <remarks>
/// Reflection's own names differ in three ways C# readers trip over: a nested type of a generic type carries its
/// enclosing types' arguments as its own (<c>Outer`1+Inner[System.Int32]</c>), built-in types go by their CLR names,
/// and an array of arrays lists its ranks innermost first. Each is turned around here. SafeMem.Testing names heap
/// objects (which have no <see cref="Type"/>) with its own rules.
/// </remarks>
internal static class TypeNames
{
    public static string Of(Type type)
    {
        var builder = new StringBuilder();
        Append(builder, type);
        return builder.ToString();
    }

    private static void Append(StringBuilder builder, Type type)
    {
        if (type.IsArray)
        {
            AppendArray(builder, type);
            return;
        }

        if (type.IsPointer || type.IsByRef)
        {
            Append(builder, type.GetElementType()!);
            builder.Append(type.IsPointer ? "*" : "&");
            return;
        }

        if (type.IsGenericParameter)
        {
            builder.Append(type.Name);
            return;
        }

        if (Keyword(type) is { } keyword)
        {
            builder.Append(keyword);
            return;
        }

        if (type.IsConstructedGenericType && type.GetGenericTypeDefinition() == typeof(Nullable<>))
        {
            Append(builder, type.GetGenericArguments()[0]);
            builder.Append('?');
            return;
        }

        AppendNamed(builder, type);
    }

    /// <summary>
    /// C# writes the outermost array's rank first (<c>int[][,]</c> is an array of two-dimensional arrays), after the
    /// innermost element type; reflection nests the other way.
    /// </summary>
    private static void AppendArray(StringBuilder builder, Type type)
    {
        var ranks = new List<int>();
        Type element = type;
        while (element.IsArray)
        {
            ranks.Add(element.GetArrayRank());
            element = element.GetElementType()!;
        }

        Append(builder, element);
        foreach (int rank in ranks)
        {
            builder.Append('[').Append(',', rank - 1).Append(']');
        }
    }

    /// <summary>
    /// A named type: namespace, then each enclosing type with its own type arguments. A nested type of a generic type
    /// holds the arguments of every enclosing type too, outermost first; each level takes as many as its own name's
    /// arity (<c>Outer`1</c> takes one, a non-generic <c>Inner</c> none).
    /// </summary>
    private static void AppendNamed(StringBuilder builder, Type type)
    {
        var levels = new List<Type>();
        for (Type? level = type; level is not null; level = level.DeclaringType)
        {
            levels.Add(level);
        }

        levels.Reverse();
        if (!string.IsNullOrEmpty(levels[0].Namespace))
        {
            builder.Append(levels[0].Namespace).Append('.');
        }

        Type[] arguments = type.IsGenericType ? type.GetGenericArguments() : [];
        int next = 0;
        for (int i = 0; i < levels.Count; i++)
        {
            if (i > 0)
            {
                builder.Append('.');
            }

            string name = levels[i].Name;
            int tick = name.IndexOf('`', StringComparison.Ordinal);
            if (tick < 0 || !int.TryParse(name.AsSpan(tick + 1), out int arity))
            {
                builder.Append(name);
                continue;
            }

            builder.Append(name, 0, tick).Append('<');
            for (int a = 0; a < arity && next < arguments.Length; a++, next++)
            {
                if (a > 0)
                {
                    builder.Append(", ");
                }

                Append(builder, arguments[next]);
            }

            builder.Append('>');
        }
    }

    /// <summary>The C# keyword for a built-in type, or null. By identity: an enum is not its underlying type.</summary>
    private static string? Keyword(Type type)
        => type == typeof(int) ? "int"
            : type == typeof(string) ? "string"
            : type == typeof(object) ? "object"
            : type == typeof(bool) ? "bool"
            : type == typeof(long) ? "long"
            : type == typeof(byte) ? "byte"
            : type == typeof(char) ? "char"
            : type == typeof(double) ? "double"
            : type == typeof(float) ? "float"
            : type == typeof(decimal) ? "decimal"
            : type == typeof(short) ? "short"
            : type == typeof(uint) ? "uint"
            : type == typeof(ulong) ? "ulong"
            : type == typeof(ushort) ? "ushort"
            : type == typeof(sbyte) ? "sbyte"
            : type == typeof(void) ? "void"
            : null;
}
