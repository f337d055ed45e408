namespace SafeMem.Testing.Tests;

// The objects the tests plant leaks with: distinct types, so that a type-wide count sees only its own test's objects.
public sealed class Widget
{
    public byte[] Payload { get; } = new byte[64];
}

public sealed class Subscriber
{
    public int Calls { get; private set; }

    public void OnChanged(object? sender, EventArgs e) => Calls++;
}

public sealed class TimerState
{
    public int Ticks { get; set; }
}

public sealed class HandleTarget
{
}

public sealed class AsyncPayload
{
    public int Value { get; set; }
}

public sealed class CycleNode
{
    public CycleNode? Next { get; set; }
}

public sealed class TableKey
{
}

public sealed class TableValue(TableKey key)
{
    public TableKey Key { get; } = key;
}

public sealed class Gadget
{
    public long A { get; set; }

    public long B { get; set; }
}
