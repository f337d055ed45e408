using SafeMem.Diagnostics;

namespace SafeMem.Tests.Diagnostics;

public sealed class LeakSignatureTests
{
    [Fact]
    public void Of_UsesTheExplainersSignature_OrTheWholeTrace_OrTheTypeWithoutAPath()
    {
        var withSignature = new RetentionTrace("static field App.s_a", ["List<Order>._items", "Order[][3]"], "Order") { Signature = "engine's signature" };
        var without = new RetentionTrace("static field App.s_a", ["List<Order>._items", "Order[][3]"], "Order");

        Assert.Equal("engine's signature", LeakSignature.Of(withSignature, "App.Order"));
        Assert.Equal("static field App.s_a -> List<Order>._items -> Order[][3] -> Order", LeakSignature.Of(without, "App.Order"));
        Assert.Equal("(no known path) -> App.Order", LeakSignature.Of(RetentionTrace.Unreached, "App.Order"));
        Assert.Equal("(no known path) -> App.Order", LeakSignature.Of(null, "App.Order"));
    }

    [Fact]
    public void RetentionTrace_PrintsOneStepPerLine_AndChecksItsArguments()
    {
        var trace = new RetentionTrace("static field App.s_log", ["AuditLog._recent"], "Order");

        Assert.Equal("static field App.s_log\n  -> AuditLog._recent\n  -> Order", trace.ToString());
        Assert.Null(RetentionTrace.Unreached.Root);
        Assert.StartsWith("no root the explainer inspected reaches it", RetentionTrace.Unreached.ToString(), StringComparison.Ordinal);
        Assert.Throws<ArgumentNullException>(() => new RetentionTrace(null!, [], "x"));
        Assert.Throws<ArgumentNullException>(() => new RetentionTrace("root", null!, "x"));
        Assert.Throws<ArgumentOutOfRangeException>(() => LeakExplanation.Unavailable(-1, "why"));
        Assert.Throws<ArgumentException>(() => LeakExplanation.Unavailable(1, " "));
        Assert.Throws<ArgumentNullException>(() => new LeakExplanationRequest(null!));
    }
}
