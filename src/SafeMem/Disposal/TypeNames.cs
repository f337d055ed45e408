using System.Text;

namespace SafeMem.Disposal;

/// <summary>Writes a type's name as C# does (<c>System.Collections.Generic.List&lt;System.Int32&gt;</c>), for reports and tags.</summary>
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
            Append(builder, type.GetElementType()!);
            builder.Append('[').Append(',', type.GetArrayRank() - 1).Append(']');
            return;
        }

        if (type.IsGenericParameter)
        {
            builder.Append(type.Name);
            return;
        }

        AppendQualifier(builder, type);
        builder.Append(StripArity(type.Name));
        if (type.IsGenericType)
        {
            // A nested type of a generic type carries its enclosing type's arguments too; they are written here, once.
            builder.Append('<');
            Type[] arguments = type.GetGenericArguments();
            for (int i = 0; i < arguments.Length; i++)
            {
                if (i > 0)
                {
                    builder.Append(", ");
                }

                Append(builder, arguments[i]);
            }

            builder.Append('>');
        }
    }

    private static void AppendQualifier(StringBuilder builder, Type type)
    {
        if (type.IsNested)
        {
            AppendQualifier(builder, type.DeclaringType!);
            builder.Append(StripArity(type.DeclaringType!.Name)).Append('.');
        }
        else if (!string.IsNullOrEmpty(type.Namespace))
        {
            builder.Append(type.Namespace).Append('.');
        }
    }

    private static string StripArity(string name)
    {
        int tick = name.IndexOf('`', StringComparison.Ordinal);
        return tick < 0 ? name : name[..tick];
    }
}
