using System.Text;
using Microsoft.CodeAnalysis;
using SafeMem.Analyzers.Tests.Infrastructure;

namespace SafeMem.Analyzers.Tests;

/// <summary>Very large methods: every analyzer finishes without an exception (an AD0001 fails the test) and still reports.</summary>
public sealed class LargeCodeTests
{
    private static string LargeMethod(int statements)
    {
        var body = new StringBuilder();
        body.AppendLine("var list = pool.Get();");
        for (var i = 0; i < statements; i++)
        {
            body.AppendLine($"if (items.Length > {i % 7}) {{ list.Add({i}); }} else if (condition) {{ token.Register(() => Use(this)); }}");
        }

        body.AppendLine("pool.Return(list);");
        return Samples.InMethod(body.ToString());
    }

    [Fact]
    public async Task OwnershipAnalyzer_MethodOfThousandsOfBranches_ReportsEachRegistration()
    {
        const int Statements = 600;
        var source = LargeMethod(Statements);
        var expected = new List<Microsoft.CodeAnalysis.Testing.DiagnosticResult>();
        var lines = source.Split('\n');
        for (var line = 0; line < lines.Length; line++)
        {
            var column = lines[line].IndexOf("token.Register", StringComparison.Ordinal);
            if (column >= 0)
            {
                expected.Add(new Microsoft.CodeAnalysis.Testing.DiagnosticResult("SM1005", DiagnosticSeverity.Warning)
                    .WithSpan(line + 1, column + 1, line + 1, column + 1 + "token.Register(() => Use(this))".Length));
            }
        }

        Assert.Equal(Statements, expected.Count);
        await Verify<OwnershipAnalyzer>.VerifyAsync([source], withSafeMem: true, OutputKind.DynamicallyLinkedLibrary, [.. expected]);
    }

    [Fact]
    public Task EventAndCollectionAnalyzers_ClassOfThousandsOfMembers_ReportNothingWrong()
    {
        var members = new StringBuilder();
        for (var i = 0; i < 400; i++)
        {
            members.AppendLine($"private static readonly System.Collections.Generic.Dictionary<int, int> s_map{i} = new() {{ [{i}] = {i} }};");
            members.AppendLine($"public int Get{i}(int k) => s_map{i}[k] + _count;");
            members.AppendLine($"public void Handle{i}(object? s, System.EventArgs e) {{ _count++; Changed -= Handle{i}; Changed += Handle{i}; }}");
        }

        var source = "public sealed class Big { private int _count; public event System.EventHandler? Changed; " + members + " }";
        return Task.WhenAll(
            Verify<EventSubscriptionAnalyzer>.VerifyAsync(source),
            Verify<StaticCollectionAnalyzer>.VerifyAsync(source));
    }
}
