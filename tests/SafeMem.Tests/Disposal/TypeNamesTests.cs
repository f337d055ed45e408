using SafeMem.Disposal;

namespace SafeMem.Tests.Disposal;

/// <summary>Type names as C# writes them: what leak reports, the resource-type tag and the statistics key show.</summary>
public sealed class TypeNamesTests
{
    public static TheoryData<Type, string> Names() => new()
    {
        { typeof(TypeNamesTests), "SafeMem.Tests.Disposal.TypeNamesTests" },
        { typeof(Outer<int>), "SafeMem.Tests.Disposal.TypeNamesTests.Outer<int>" },

        // Issue 20.10: a nested type of a generic type carries its enclosing type's arguments; C# writes them there.
        { typeof(Outer<int>.Inner), "SafeMem.Tests.Disposal.TypeNamesTests.Outer<int>.Inner" },
        { typeof(Outer<string>.Inner.Innermost<bool>), "SafeMem.Tests.Disposal.TypeNamesTests.Outer<string>.Inner.Innermost<bool>" },
        { typeof(Outer<int>.Pair<long, Outer<byte>.Inner>), "SafeMem.Tests.Disposal.TypeNamesTests.Outer<int>.Pair<long, SafeMem.Tests.Disposal.TypeNamesTests.Outer<byte>.Inner>" },
        { typeof(Outer<>.Inner), "SafeMem.Tests.Disposal.TypeNamesTests.Outer<T>.Inner" },
        { typeof(List<>), "System.Collections.Generic.List<T>" },

        // Keywords for the built-in types, as C# writes them.
        { typeof(List<int>), "System.Collections.Generic.List<int>" },
        { typeof(Dictionary<string, object>), "System.Collections.Generic.Dictionary<string, object>" },
        { typeof(Dictionary<string, List<int>>.Enumerator), "System.Collections.Generic.Dictionary<string, System.Collections.Generic.List<int>>.Enumerator" },
        { typeof(int), "int" },
        { typeof(uint), "uint" },
        { typeof(long), "long" },
        { typeof(ulong), "ulong" },
        { typeof(short), "short" },
        { typeof(ushort), "ushort" },
        { typeof(byte), "byte" },
        { typeof(sbyte), "sbyte" },
        { typeof(char), "char" },
        { typeof(bool), "bool" },
        { typeof(float), "float" },
        { typeof(double), "double" },
        { typeof(decimal), "decimal" },
        { typeof(string), "string" },
        { typeof(object), "object" },
        { typeof(DayOfWeek), "System.DayOfWeek" },
        { typeof(int?), "int?" },
        { typeof(List<DateTime?>), "System.Collections.Generic.List<System.DateTime?>" },

        // Arrays: C# writes the outermost rank first (an array of two-dimensional arrays is int[][,]).
        { typeof(int[]), "int[]" },
        { typeof(string[,]), "string[,]" },
        { typeof(int[][,]), "int[][,]" },
        { typeof(int[,][]), "int[,][]" },
        { typeof(Outer<int>.Inner[]), "SafeMem.Tests.Disposal.TypeNamesTests.Outer<int>.Inner[]" },
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void Of_WritesTheNameAsCSharpDoes(Type type, string expected) => Assert.Equal(expected, TypeNames.Of(type));

    [Fact]
    public void Of_PointerType_WritesTheStar() => Assert.Equal("int*", TypeNames.Of(typeof(int).MakePointerType()));

    internal sealed class Outer<T>
    {
        internal sealed class Inner
        {
            internal sealed class Innermost<TInner>
            {
            }
        }

        internal sealed class Pair<TFirst, TSecond>
        {
        }
    }
}
