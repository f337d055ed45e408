namespace SafeMem.Diagnostics.Heap.Tests;

/// <summary>Type names as C# writes them: nested types of generic types, C# keywords for built-in types (issue 20).</summary>
public sealed class HeapTypeNamesTests
{
    [Fact]
    public void FullName_NestedTypesOfGenericTypes_AsCSharpWritesThem()
    {
        Assert.Equal("SafeMem.Diagnostics.Heap.Tests.Outer<int>.Inner", HeapTypeNames.FullName(typeof(Outer<int>.Inner)));
        Assert.Equal("SafeMem.Diagnostics.Heap.Tests.Outer<string>.Inner<long[]>", HeapTypeNames.FullName(typeof(Outer<string>.Inner<long[]>)));
        Assert.Equal("Outer<int?>.Inner", HeapTypeNames.DisplayName(typeof(Outer<int?>.Inner)));
        Assert.Equal("System.Collections.Generic.Dictionary<string, object>", HeapTypeNames.FullName(typeof(Dictionary<string, object>)));
    }

    [Fact]
    public void FullName_BuiltInTypes_AreCSharpKeywords()
    {
        Assert.Equal("string", HeapTypeNames.FullName(typeof(string)));
        Assert.Equal("int[]", HeapTypeNames.FullName(typeof(int[])));
        Assert.Equal("byte[,]", HeapTypeNames.FullName(typeof(byte[,])));
        Assert.Equal("object", HeapTypeNames.FullName(typeof(object)));
        Assert.Equal("System.Collections.Generic.List<decimal>", HeapTypeNames.FullName(typeof(List<decimal>)));
    }

    [Fact]
    public void Take_RowsOfThisAndAnotherProcess_NameNestedGenericTypesAlike()
    {
        using TargetProcess target = TargetProcess.Start();
        using HeapSnapshot other = HeapSnapshot.TakeFromProcess(target.Id);

        Assert.NotNull(other.Find("SafeMem.Diagnostics.Heap.Tests.Outer<int>.Inner"));
        Assert.NotNull(other.Find("SafeMem.Diagnostics.Heap.Tests.Outer<string>.Inner<long[]>"));
        Assert.NotNull(other.Find("string"));
        Assert.NotNull(other.Find("SafeMem.Diagnostics.Heap.Tests.TargetProcess.TargetItem[]"));
        Assert.Null(other.Find("System.String"));
    }
}

public sealed class Outer<T>
{
    public sealed class Inner
    {
    }

    public sealed class Inner<U>
    {
    }
}
