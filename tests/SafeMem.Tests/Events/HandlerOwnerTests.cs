using System.Runtime.CompilerServices;
using SafeMem.Events;

namespace SafeMem.Tests.Events;

public sealed class HandlerOwnerTests
{
    [Fact]
    public void Find_InstanceMethod_ReturnsTheInstance()
    {
        var subscriber = new PriceSubscriber();

        Assert.Same(subscriber, HandlerOwner.Find(new EventHandler<PriceChangedEventArgs>(subscriber.OnPriceChanged), "handler"));
    }

    [Fact]
    public void Find_StaticMethodOrNonCapturingLambda_ReturnsNull()
    {
        EventHandler<PriceChangedEventArgs> lambda = static (_, _) => { };

        Assert.Null(HandlerOwner.Find(new EventHandler<PriceChangedEventArgs>(Static), "handler"));
        Assert.Null(HandlerOwner.Find(lambda, "handler"));
    }

    [Fact]
    public void Find_DelegateWrappingAnInstanceMethod_ReturnsTheWrappedInstance()
    {
        var subscriber = new PriceSubscriber();
        Action<object?, PriceChangedEventArgs> inner = subscriber.OnPriceChanged;

        Assert.Same(subscriber, HandlerOwner.Find(new EventHandler<PriceChangedEventArgs>(inner.Invoke), "handler"));
    }

    [Fact]
    public void Find_ClosureCapturingThis_ReturnsThis()
    {
        int local = 1;
        EventHandler<PriceChangedEventArgs> handler = (_, _) => GC.KeepAlive(this.ToString() + local);

        Assert.Same(this, HandlerOwner.Find(handler, "handler"));
    }

    [Fact]
    public void Find_ClosureWithoutThis_ThrowsWithParameterName()
    {
        int local = 1;
        EventHandler<PriceChangedEventArgs> handler = (_, _) => local++;

        ArgumentException ex = Assert.Throws<ArgumentException>(() => HandlerOwner.Find(handler, "custom"));
        Assert.Equal("custom", ex.ParamName);
    }

    [Fact]
    public void Find_UserTypeMarkedCompilerGenerated_IsAnOrdinaryInstance()
    {
        // Source generators may mark user types [CompilerGenerated]; only unspeakable closure names are closures.
        var generated = new GeneratedViewModel();

        Assert.Same(generated, HandlerOwner.Find(new EventHandler<PriceChangedEventArgs>(generated.Handle), "handler"));
    }

    [Fact]
    public void Captures_ClosureHoldingTheValue_ReturnsTrue()
    {
        var subscriber = new PriceSubscriber();
        Action<PriceSubscriber, object?, PriceChangedEventArgs> capturing = (_, sender, e) => subscriber.OnPriceChanged(sender, e);
        Action<PriceSubscriber, object?, PriceChangedEventArgs> clean = static (s, sender, e) => s.OnPriceChanged(sender, e);

        Assert.True(HandlerOwner.Captures(capturing, subscriber));
        Assert.False(HandlerOwner.Captures(clean, subscriber));
    }

    private static void Static(object? sender, PriceChangedEventArgs e)
    {
    }

    [CompilerGenerated]
    private sealed class GeneratedViewModel
    {
        public void Handle(object? sender, PriceChangedEventArgs e)
        {
        }
    }
}
