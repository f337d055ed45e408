using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;
using SafeMem.Analyzers.Tests.Infrastructure;
using static SafeMem.Analyzers.Tests.Infrastructure.Verify<SafeMem.Analyzers.OwnershipAnalyzer>;

namespace SafeMem.Analyzers.Tests;

public sealed partial class OwnershipAnalyzerTests
{
    [Theory]
    [InlineData("var list = {|#0:pool.Get()|}; list.Add(1);")]
    [InlineData("var list = {|#0:pool.Get()|}; if (condition) { return null; } pool.Return(list);")]
    [InlineData("var list = {|#0:pool.Get()|}; try { list.Add(1); } catch { pool.Return(list); throw; }")]
    [InlineData("var list = {|#0:pool.Get()|}; Use(list);")]
    [InlineData("foreach (var item in items) { var list = {|#0:pool.Get()|}; if (item is null) { continue; } pool.Return(list); }")]
    [InlineData("List<int> list; list = {|#0:pool.Get()|}; switch (items.Length) { case 0: pool.Return(list); break; default: Use(list.Count); break; }")]
    public Task SM1007_RentalNotReturnedOnEveryPath_IsReported(string body)
        => VerifyAsync(Samples.InMethod(body), Diagnostic("SM1007"));

    [Theory]
    [InlineData("var list = pool.Get(); list.Add(1); pool.Return(list);")]
    [InlineData("var list = pool.Get(); try { list.Add(1); } finally { pool.Return(list); }")]
    [InlineData("var list = pool.Get(); return list;")]
    [InlineData("var list = pool.Get(); _field = list;")]
    [InlineData("var list = pool.Get(); if (condition) { pool.Return(list); return null; } pool.Return(list);")]
    [InlineData("while (true) { var list = pool.Get(); try { if (condition) { break; } list.Add(1); } finally { pool.Return(list); } }")]
    [InlineData("var list = pool.Get(); if (condition) { throw new InvalidOperationException(); } pool.Return(list);")]
    [InlineData("var list = pool.Get(); Action giveBack = () => pool.Return(list); giveBack();")]
    [InlineData("Func<int> count = () => { var list = pool.Get(); var n = list.Count; pool.Return(list); return n; }; Use(count());")]
    [InlineData("foreach (var item in items) { var list = pool.Get(); try { if (item is null) { continue; } list.Add(1); } finally { pool.Return(list); } }")]
    [InlineData("var tracked = new TrackedObjectPool<List<int>>(new DefaultPooledObjectPolicy<List<int>>()); _field = tracked; var list = tracked.Get(); tracked.Return(list);")]
    [InlineData("var list = pool.Get(); Use(new Holder { Value = list }); pool.Return(list);")]
    public Task SM1007_RentalReturnedOrHandedOn_IsNotReported(string body)
        => VerifyAsync(Samples.InMethod(body));

    [Fact]
    public Task SM1007_BrokenCode_ReportsNoAnalyzerException()
        => VerifyAsync(
            [Samples.Usings + """
            public sealed class Broken
            {
                public void Run(ObjectPool<List<int>> pool)
                {
                    var list = pool.Get();
                    if (list.
                }
            """],
            withSafeMem: true,
            OutputKind.DynamicallyLinkedLibrary,
            DiagnosticResult.CompilerError("CS1001").WithSpan(17, 18, 17, 18),
            DiagnosticResult.CompilerError("CS1002").WithSpan(17, 18, 17, 18),
            DiagnosticResult.CompilerError("CS1026").WithSpan(17, 18, 17, 18),
            DiagnosticResult.CompilerError("CS1525").WithSpan(17, 18, 17, 18).WithArguments("}"),
            DiagnosticResult.CompilerError("CS1513").WithSpan(18, 6, 18, 6));
}
