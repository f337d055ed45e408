using Microsoft.Extensions.ObjectPool;

namespace SafeMem.Tests.Pooling;

public sealed class PooledThing : IDisposable
{
    private int _disposals;

    public int Disposals => Volatile.Read(ref _disposals);

    public bool Dirty { get; set; }

    public void Dispose() => Interlocked.Increment(ref _disposals);
}

/// <summary>A policy that refuses dirty objects and counts its calls.</summary>
public sealed class ThingPolicy : IPooledObjectPolicy<PooledThing>
{
    public int Creates;

    public bool ThrowOnReturn { get; set; }

    public PooledThing Create()
    {
        Interlocked.Increment(ref Creates);
        return new PooledThing();
    }

    public bool Return(PooledThing obj) => ThrowOnReturn ? throw new InvalidOperationException("reset failed") : !obj.Dirty;
}
