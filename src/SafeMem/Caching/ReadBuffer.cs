using System.Runtime.CompilerServices;

namespace SafeMem.Caching;

/// <summary>
/// Records which nodes were read, without a lock and without allocating, so the LRU order can be updated later under
/// the policy lock. Striped by managed thread id: a single thread always writes one stripe in order, which keeps a
/// single-threaded replay exact; threads that share a stripe may overwrite each other's slot, which only loses a
/// recency update (the buffer is lossy by design, like the read buffers of Caffeine and BitFaster.Caching).
/// </summary>
internal sealed class ReadBuffer<T>
    where T : class
{
    internal const int StripeCapacity = 32;

    private readonly Stripe[] _stripes;
    private readonly int _mask;

    public ReadBuffer()
    {
        int count = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Clamp(Environment.ProcessorCount * 2, 4, 64));
        _stripes = new Stripe[count];
        for (int i = 0; i < count; i++)
        {
            _stripes[i] = new Stripe();
        }

        _mask = count - 1;
    }

    /// <summary>Records <paramref name="item"/>; returns <see langword="false"/> when its stripe is full (the caller should drain).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryAdd(T item)
    {
        Stripe stripe = _stripes[Environment.CurrentManagedThreadId & _mask];
        int tail = stripe.Tail;
        if (tail - Volatile.Read(ref stripe.Head) >= StripeCapacity)
        {
            return false;
        }

        stripe.Items[tail & (StripeCapacity - 1)] = item;

        // Publish the slot before the new tail, so a drainer that sees the tail sees the item.
        Volatile.Write(ref stripe.Tail, tail + 1);
        return true;
    }

    /// <summary>Hands every recorded item to <paramref name="apply"/> in recording order per stripe. Call under the policy lock.</summary>
    public void Drain<TState>(TState state, Action<TState, T> apply)
    {
        foreach (Stripe stripe in _stripes)
        {
            int head = stripe.Head;
            int tail = Volatile.Read(ref stripe.Tail);
            if (head == tail)
            {
                continue;
            }

            for (int i = head; i != tail; i++)
            {
                ref T? slot = ref stripe.Items[i & (StripeCapacity - 1)];

                // A racing writer that shares this stripe may have overwritten or not yet filled the slot: skip it.
                T? item = Interlocked.Exchange(ref slot, null);
                if (item is not null)
                {
                    apply(state, item);
                }
            }

            Volatile.Write(ref stripe.Head, tail);
        }
    }

    /// <summary>Forgets everything recorded (so the buffer roots nothing). Call under the policy lock.</summary>
    public void Clear()
    {
        foreach (Stripe stripe in _stripes)
        {
            Array.Clear(stripe.Items);
            Volatile.Write(ref stripe.Head, Volatile.Read(ref stripe.Tail));
        }
    }

    private sealed class Stripe
    {
        public readonly T?[] Items = new T?[StripeCapacity];
        public int Head;
        public int Tail;
    }
}
