using Microsoft.CodeAnalysis;
using SafeMem.Analyzers.Tests.Infrastructure;
using static SafeMem.Analyzers.Tests.Infrastructure.Verify<SafeMem.Analyzers.OwnershipAnalyzer>;

namespace SafeMem.Analyzers.Tests;

public sealed partial class OwnershipAnalyzerTests
{
    [Theory]
    [InlineData("{|#0:token.Register(() => Console.WriteLine(\"cancelled\"))|};")]
    [InlineData("_ = {|#0:token.UnsafeRegister(static _ => { }, null)|};")]
    [InlineData("var t = token; {|#0:t.Register(() => Use(this))|};")]
    [InlineData("var cts = new CancellationTokenSource(); {|#0:cts.Token.Register(() => Use(this))|};")]
    [InlineData("var cts = new CancellationTokenSource(); _field = cts; {|#0:cts.Token.Register(() => Use(this))|}; cts.Dispose();")]
    [InlineData("foreach (var item in items) { {|#0:token.Register(() => Use(item))|}; }")]
    [InlineData("if (condition) { {|#0:token.Register(static state => Use(state), this)|}; }")]
    [InlineData("Action subscribe = () => {|#0:token.Register(() => Use(this))|}; subscribe();")]
    public Task SM1005_DiscardedRegistration_IsFlagged(string body)
        => VerifyAsync(Samples.InMethod(body), Diagnostic("SM1005"));

    [Fact]
    public Task SM1005_TopLevelStatementsWithUndisposedSource_IsFlagged()
        => VerifyAsync(
            ["""
            using System;
            using System.Threading;
            var cts = new CancellationTokenSource();
            {|#0:cts.Token.Register(() => Console.WriteLine("stopping"))|};
            """],
            withSafeMem: false,
            OutputKind.ConsoleApplication,
            Diagnostic("SM1005"));

    [Theory]
    [InlineData("using var registration = token.Register(() => Use(this));")]
    [InlineData("var registration = token.Register(() => Use(this)); registration.Dispose();")]
    [InlineData("using var cts = new CancellationTokenSource(); cts.Token.Register(() => Use(this));")]
    [InlineData("using (var cts = new CancellationTokenSource()) { cts.Token.Register(() => Use(this)); }")]
    [InlineData("using var linked = CancellationTokenSource.CreateLinkedTokenSource(token); var t = linked.Token; t.Register(() => Use(this));")]
    [InlineData("var cts = new CancellationTokenSource(); try { cts.Token.Register(() => Use(this)); } finally { cts.Dispose(); }")]
    [InlineData("CancellationToken.None.Register(() => Use(this));")]
    [InlineData("default(CancellationToken).Register(() => Use(this));")]
    [InlineData("return token.Register(() => Use(this));")]
    [InlineData("_field = token.Register(() => Use(this));")]
    [InlineData("Use(token.Register(() => Use(this)));")]
    public Task SM1005_RegistrationKeptOrTokenOwned_IsNotFlagged(string body)
        => VerifyAsync(Samples.InMethod(body));

    [Fact]
    public Task SM1005_TopLevelStatementsWithDisposedSource_IsNotFlagged()
        => VerifyAsync(
            ["""
            using System;
            using System.Threading;
            using var cts = new CancellationTokenSource();
            cts.Token.Register(() => Console.WriteLine("stopping"));
            """],
            withSafeMem: false,
            OutputKind.ConsoleApplication);

    [Fact]
    public Task SM1005_GeneratedCode_IsNotFlagged()
        => VerifyAsync(
            [Samples.Generated(Samples.InMethod("token.Register(() => Use(this));"))],
            withSafeMem: true,
            OutputKind.DynamicallyLinkedLibrary);
}
