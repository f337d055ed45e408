using Microsoft.CodeAnalysis;
using SafeMem.Analyzers.Tests.Infrastructure;
using static SafeMem.Analyzers.Tests.Infrastructure.Verify<SafeMem.Analyzers.OwnershipAnalyzer>;

namespace SafeMem.Analyzers.Tests;

public sealed partial class OwnershipAnalyzerTests
{
    [Theory]
    [InlineData("{|#0:new Timer(_ => Use(this), null, 0, 1000)|};")]
    [InlineData("_ = {|#0:new System.Timers.Timer(1000)|};")]
    [InlineData("var timer = {|#0:new System.Timers.Timer(1000)|}; timer.Elapsed += (s, e) => Use(this); timer.Start();")]
    [InlineData("for (var i = 0; i < 3; i++) { var timer = {|#0:new Timer(static _ => { }, null, 0, 1000)|}; timer.Change(10, 10); }")]
    [InlineData("if (condition) { System.Threading.Timer timer; timer = {|#0:new(static _ => { })|}; }")]
    public Task SM1006_TimerNobodyKeeps_IsFlagged(string body)
        => VerifyAsync(Samples.InMethod(body), Diagnostic("SM1006"));

    [Fact]
    public Task SM1006_PeriodicTimerNeverDisposed_IsFlagged()
        => VerifyAsync(Samples.InAsyncMethod("""
            var periodic = {|#0:new PeriodicTimer(TimeSpan.FromSeconds(1))|};
            while (await periodic.WaitForNextTickAsync(token)) { _field = null; }
            """), Diagnostic("SM1006"));

    [Fact]
    public Task SM1006_TopLevelStatements_IsFlagged()
        => VerifyAsync(
            ["""
            using System;
            using System.Threading;
            var timer = {|#0:new Timer(static _ => Console.WriteLine("tick"), null, 0, 1000)|};
            Console.ReadLine();
            """],
            withSafeMem: false,
            OutputKind.ConsoleApplication,
            Diagnostic("SM1006"));

    [Theory]
    [InlineData("_field = new Timer(static _ => { }, null, 0, 1000);")]
    [InlineData("var timer = new Timer(static _ => { }, null, 0, 1000); timer.Dispose();")]
    [InlineData("var timer = new System.Timers.Timer(1000); return timer;")]
    [InlineData("var timer = new System.Timers.Timer(1000); Use(timer);")]
    [InlineData("var timer = new System.Timers.Timer(1000); timer.Elapsed += (s, e) => timer.Dispose(); timer.Start();")]
    [InlineData("var timer = new System.Timers.Timer(1000); Property = timer;")]
    [InlineData("var timer = new System.Timers.Timer(1000); output = timer;")]
    [InlineData("var timer = new Timer(static _ => { }); Interlocked.Exchange(ref _field, timer);")]
    [InlineData("using var timer = new Timer(static _ => { }, null, 0, 1000);")]
    [InlineData("var timer = new Timer(static _ => { }); GC.KeepAlive(timer);")]
    public Task SM1006_TimerKeptOrDisposed_IsNotFlagged(string body)
        => VerifyAsync(Samples.InMethod(body));

    [Fact]
    public Task SM1006_PeriodicTimerUsingDeclaration_IsNotFlagged()
        => VerifyAsync(Samples.InAsyncMethod("""
            using var periodic = new PeriodicTimer(TimeSpan.FromSeconds(1));
            while (await periodic.WaitForNextTickAsync(token)) { _field = null; }
            """));

    [Fact]
    public Task SM1006_GeneratedCode_IsNotFlagged()
        => VerifyAsync(
            [Samples.Generated(Samples.InMethod("new Timer(_ => Use(this), null, 0, 1000);"))],
            withSafeMem: true,
            OutputKind.DynamicallyLinkedLibrary);
}
