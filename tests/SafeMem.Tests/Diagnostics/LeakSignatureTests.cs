using System.Text;
using SafeMem.Diagnostics;

namespace SafeMem.Tests.Diagnostics;

public sealed class LeakSignatureTests
{
    [Theory]
    [InlineData("Order[][17]", "Order[][]")]
    [InlineData("Dictionary<int, Order>.Entry[][3].value", "Dictionary<int, Order>.Entry[][].value")]
    [InlineData("local variable in App.Run() (thread 12)", "local variable in App.Run()")]
    [InlineData("int[,][2]", "int[,][]")]
    [InlineData("[abc] [] [12x] (thread x)", "[abc] [] [12x] (thread x)")]
    [InlineData("Holder (+0x18)", "Holder (+0x18)")]
    [InlineData("Cache[0][1]", "Cache[][]")]
    public void AppendNormalized_EmptiesIndexesAndDropsThreadIds(string part, string expected)
    {
        var builder = new StringBuilder();

        LeakSignature.AppendNormalized(builder, part);

        Assert.Equal(expected, builder.ToString());
    }

    [Fact]
    public void Of_TwoInstancesOfOneLeak_HaveOneSignature_AndTwoRootsTwo()
    {
        static RetentionTrace Trace(string root, int index) => new(root, ["List<Order>._items", $"Order[][{index}]"], "Order");

        Assert.Equal(LeakSignature.Of(Trace("static field App.s_a", 1), "App.Order"), LeakSignature.Of(Trace("static field App.s_a", 900), "App.Order"));
        Assert.NotEqual(LeakSignature.Of(Trace("static field App.s_a", 1), "App.Order"), LeakSignature.Of(Trace("static field App.s_b", 1), "App.Order"));
        Assert.Equal("(no known path) -> App.Order", LeakSignature.Of(RetentionTrace.Unreached("Order"), "App.Order"));
        Assert.Equal("(no known path) -> App.Order", LeakSignature.Of(null, "App.Order"));
    }

    [Fact]
    public void RetentionTrace_PrintsOneStepPerLine()
    {
        var trace = new RetentionTrace("static field App.s_log", ["AuditLog._recent"], "Order");

        Assert.Equal("static field App.s_log\n  -> AuditLog._recent\n  -> Order", trace.ToString());
        Assert.StartsWith("no root the explainer inspected reaches it", RetentionTrace.Unreached("Order").ToString(), StringComparison.Ordinal);
        Assert.Throws<ArgumentNullException>(() => new RetentionTrace(null!, [], "x"));
        Assert.Throws<ArgumentNullException>(() => RetentionTrace.Unreached(null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => LeakExplanation.Unavailable(-1, "why"));
        Assert.Throws<ArgumentException>(() => LeakExplanation.Unavailable(1, " "));
        Assert.Throws<ArgumentNullException>(() => new LeakExplanationRequest(null!));
    }
}
