using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.ObjectPool;
using SafeMem.Disposal;
using SafeMem.Internal;
using SafeMem.Telemetry;

namespace SafeMem.Pooling;

/// <summary>
/// An <see cref="ObjectPool{T}"/> (Microsoft.Extensions.ObjectPool, with its <see cref="IPooledObjectPolicy{T}"/>
/// policies) that counts what it does, finds rented objects that are never returned, refuses double returns, and
/// disposes the disposable objects it lets go of.
/// </summary>
/// <typeparam name="T">The pooled objects' type.</typeparam>
/// <remarks>
/// <para>
/// <b>Storage</b> is <c>DefaultObjectPool</c>'s: one fast slot plus a queue, at most
/// <see cref="TrackedObjectPoolOptions.MaximumRetained"/> idle objects. <b>Held strongly:</b> the idle objects.
/// <b>Held weakly:</b> rented objects (the pool never keeps a rented object alive; tracked rentals are recorded in a
/// <see cref="ConditionalWeakTable{TKey, TValue}"/>).
/// </para>
/// <para>
/// <b>Leaks:</b> with a <see cref="TrackedObjectPoolOptions.SamplingRate"/> above 0 (or a shared
/// <see cref="TrackedObjectPoolOptions.LeakTracker"/>), a sampled rental is tracked by <see cref="LeakTracker"/>
/// until it is returned; one that becomes unreachable first is reported by that tracker's
/// <see cref="LeakTracker.LeakDetected"/> (with the renting stack when captured) and counted in
/// <see cref="PoolStatistics.Leaks"/>. Detection waits for a garbage collection. With tracking off (the default) the
/// hot path is <c>DefaultObjectPool</c>'s plus two per-thread counter stores: no allocation, no lookup.
/// </para>
/// <para>
/// <b>Double and foreign returns:</b> <see cref="Return"/> throws <see cref="InvalidOperationException"/> (and counts
/// it, without storing the object) when it can tell the object is not out on loan: at any sampling rate when the object
/// is the one in the pool's fast slot (typically a second return straight after the first); and, when every rental is
/// tracked (sampling rate 1), for every double return and every object that was never rented from this pool. Otherwise such an object cannot be told from an untracked rental (telling it
/// would cost a lookup on every rental) and is accepted, as <c>DefaultObjectPool</c> accepts it: run tests or a
/// canary with a rate of 1 to find double returns.
/// </para>
/// <para>
/// <b>Disposal:</b> <see cref="Dispose"/> disposes every idle <see cref="IDisposable"/> object and stops reporting
/// telemetry; later <see cref="Get"/> calls throw <see cref="ObjectDisposedException"/>, and an object returned after it
/// is disposed (if disposable) instead of kept, without an exception, so requests still finishing during shutdown do not
/// fail. Objects dropped on return (pool full, or refused by the policy) are disposed too.
/// </para>
/// <para>
/// <b>User code:</b> the policy's <c>Create</c> and <c>Return</c>, and the objects' <c>Dispose</c>. A throwing
/// <c>Create</c> fails the <see cref="Get"/> and counts nothing; a throwing policy <c>Return</c> drops (and disposes)
/// the object and propagates; a throwing <c>Dispose</c> propagates from the call that dropped the object (from
/// <see cref="Dispose"/>, after every other idle object was disposed).
/// </para>
/// <para><b>Thread-safety:</b> every member is safe for concurrent use.</para>
/// </remarks>
[DebuggerDisplay("Name = {Name}")]
public sealed class TrackedObjectPool<T> : ObjectPool<T>, IDisposable
    where T : class
{
    private readonly IPooledObjectPolicy<T> _policy;
    private readonly bool _callPolicyReturn;
    private readonly ConcurrentQueue<T> _items = new();
    private readonly int _maxQueued;
    private readonly PoolCounters _counters;
    private readonly PerThreadCounterPair _rentalsAndReturns;
    private readonly Sampler _sampler;
    private readonly IDisposable _registration;
    private readonly ConditionalWeakTable<T, LeakSentinel>? _rented;
    private readonly bool _trackAll;
    private T? _fastItem;
    private int _queued;
    private volatile bool _disposed;

    /// <summary>Creates an untracked pool with a generated name and default options.</summary>
    /// <param name="policy">Creates and resets the pooled objects.</param>
    /// <exception cref="ArgumentNullException"><paramref name="policy"/> is null.</exception>
    public TrackedObjectPool(IPooledObjectPolicy<T> policy)
        : this(policy, new TrackedObjectPoolOptions())
    {
    }

    /// <summary>Creates a pool with the given options.</summary>
    /// <param name="policy">Creates and resets the pooled objects.</param>
    /// <param name="options">The settings; read once, at construction.</param>
    /// <exception cref="ArgumentNullException"><paramref name="policy"/> or <paramref name="options"/> is null.</exception>
    public TrackedObjectPool(IPooledObjectPolicy<T> policy, TrackedObjectPoolOptions options)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(options);
        _policy = policy;
        // As DefaultObjectPool: the default policy's Return only resets IResettable objects, so skip the call otherwise.
        Type policyType = policy.GetType();
        _callPolicyReturn = !(policyType.IsGenericType && policyType.GetGenericTypeDefinition() == typeof(DefaultPooledObjectPolicy<>))
            || typeof(IResettable).IsAssignableFrom(typeof(T));
        _maxQueued = options.MaximumRetained - 1;
        Name = InstanceNames.Resolve(options.Name, "pool");
        _counters = new PoolCounters(Name);
        _rentalsAndReturns = _counters.RentalsAndReturns;
        _registration = PoolCounters.Registry(SafeMemMeter.Resolve(options.MeterFactory)).Register(_counters, Name);

        LeakTracker? tracker = options.LeakTracker;
        if (tracker is null && options.SamplingRate > 0)
        {
            tracker = new LeakTracker(Name, new LeakTrackerOptions
            {
                SamplingRate = options.SamplingRate,
                CaptureStackTrace = options.CaptureStackTrace,
                MeterFactory = options.MeterFactory,
            });
        }

        if (tracker is not null && !tracker.IsSamplingNever)
        {
            LeakTracker = tracker;
            _rented = new ConditionalWeakTable<T, LeakSentinel>();
            _trackAll = tracker.IsSamplingAlways;
            _sampler = tracker.Sampler;
        }
        else
        {
            LeakTracker = tracker;
        }
    }

    /// <summary>Gets the pool's name (the <c>safemem.name</c> tag).</summary>
    public string Name { get; }

    /// <summary>Gets the tracker that tracks this pool's rentals (subscribe to its <see cref="LeakTracker.LeakDetected"/>), or <see langword="null"/> when tracking is off.</summary>
    public LeakTracker? LeakTracker { get; }

    /// <summary>Rents an object: an idle one if the pool has one, else a new one from the policy.</summary>
    /// <returns>The object; give it back with <see cref="Return"/>.</returns>
    /// <exception cref="ObjectDisposedException">The pool is disposed.</exception>
    public override T Get()
    {
        if (_disposed)
        {
            ThrowDisposed();
        }

        T? item = _fastItem;
        if (item is null || Interlocked.CompareExchange(ref _fastItem, null, item) != item)
        {
            if (_items.TryDequeue(out item))
            {
                Interlocked.Decrement(ref _queued);
            }
            else
            {
                item = _policy.Create();
                _counters.Creations.Increment();
            }
        }

        _rentalsAndReturns.IncrementFirst();
        // The sampling decision is inlined here (a thread-static xorshift step); only a sampled rental pays for a call.
        if (_rented is not null && _sampler.Next())
        {
            TrackRental(item);
        }

        return item;
    }

    /// <summary>
    /// Gives a rented object back: kept for the next rental if the policy accepts it and the pool has room, else dropped
    /// (and disposed, if disposable). After the pool is disposed, the object is disposed instead.
    /// </summary>
    /// <param name="obj">The object <see cref="Get"/> returned.</param>
    /// <exception cref="ArgumentNullException"><paramref name="obj"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The pool can tell <paramref name="obj"/> is not out on loan: see the type's remarks.</exception>
    public override void Return(T obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        if (_rented is not null && (_trackAll || Volatile.Read(ref _counters.TrackedOutstanding) != 0))
        {
            CloseRental(obj);
        }

        T? fast = _fastItem;
        if (ReferenceEquals(fast, obj))
        {
            ThrowInvalidReturn(obj);
        }

        _rentalsAndReturns.IncrementSecond();
        if (_disposed)
        {
            DisposeObject(obj);
            return;
        }

        if (_callPolicyReturn && !PolicyAccepts(obj))
        {
            _counters.DropsRejected.Increment();
            DisposeObject(obj);
            return;
        }

        if (fast is not null || Interlocked.CompareExchange(ref _fastItem, obj, null) is not null)
        {
            if (Interlocked.Increment(ref _queued) > _maxQueued)
            {
                Interlocked.Decrement(ref _queued);
                _counters.DropsFull.Increment();
                DisposeObject(obj);
                return;
            }

            _items.Enqueue(obj);
        }

        if (_disposed)
        {
            // Dispose ran while this return stored the object: drain again so the object is disposed, not kept.
            DrainAndDispose();
        }
    }

    /// <summary>Returns a snapshot of the pool's figures.</summary>
    /// <returns>The figures; see <see cref="PoolStatistics"/>.</returns>
    public PoolStatistics GetStatistics() => _counters.Snapshot();

    /// <summary>Disposes every idle disposable object, stops telemetry, and makes later rentals throw; see the type's remarks.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _registration.Dispose();
        DrainAndDispose();
    }

    /// <inheritdoc/>
    public override string ToString() => GetStatistics().ToString();

    [DoesNotReturn]
    private static void ThrowDisposed() => throw new ObjectDisposedException(typeof(TrackedObjectPool<T>).Name);

    private static void DisposeObject(T obj)
    {
        if (obj is IDisposable disposable)
        {
            disposable.Dispose();
        }
    }

    [DoesNotReturn]
    private void ThrowInvalidReturn(T obj)
    {
        Interlocked.Increment(ref _counters.InvalidReturns);
        throw new InvalidOperationException(
            $"This {TypeNames.Of(obj.GetType())} is not out on loan from object pool '{Name}': it was returned already, or never rented from this pool. The pool did not store it again.");
    }

    private bool PolicyAccepts(T obj)
    {
        try
        {
            return _policy.Return(obj);
        }
        catch
        {
            // The object's state is unknown after a failed reset: dropped, not kept.
            _counters.DropsRejected.Increment();
            DisposeObject(obj);
            throw;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void TrackRental(T item)
    {
        LeakSentinel record = LeakTracker!.CreateRecord(item.GetType(), _counters);
        // A record still open here means the object is handed out while a tracked rental of it is open: an earlier
        // undetected double return put it in the pool twice. Close the old record rather than let it be reported as a
        // leak when it is replaced. (Racing rentals of one object are that same bug; the table itself is thread-safe.)
        if (_rented!.TryGetValue(item, out LeakSentinel? existing) && existing.Close())
        {
            Interlocked.Decrement(ref _counters.TrackedOutstanding);
        }

        _rented.AddOrUpdate(item, record);
        Interlocked.Increment(ref _counters.TrackedOutstanding);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CloseRental(T obj)
    {
        // Closed records stay attached to their (idle) objects until the next tracked rental replaces them: removing
        // them would cost a second table operation on every tracked return. The first Close of a record wins, so of two
        // racing returns of one tracked rental only one gets past here.
        if (_rented!.TryGetValue(obj, out LeakSentinel? record) && record.Close())
        {
            Interlocked.Decrement(ref _counters.TrackedOutstanding);
            return;
        }

        // No open record. When every rental is tracked, the object is not out on loan (returned already, or never
        // rented here). Otherwise it may be an untracked rental of an object that was tracked once: accepted.
        if (_trackAll)
        {
            ThrowInvalidReturn(obj);
        }
    }

    private void DrainAndDispose()
    {
        List<Exception>? errors = null;
        T? fast = Interlocked.Exchange(ref _fastItem, null);
        if (fast is not null)
        {
            TryDispose(fast, ref errors);
        }

        while (_items.TryDequeue(out T? item))
        {
            Interlocked.Decrement(ref _queued);
            TryDispose(item, ref errors);
        }

        if (errors is not null)
        {
            throw errors.Count == 1 ? errors[0] : new AggregateException("More than one pooled object threw while the pool disposed it.", errors);
        }

        static void TryDispose(T item, ref List<Exception>? errors)
        {
            try
            {
                DisposeObject(item);
            }
            catch (Exception ex)
            {
                (errors ??= []).Add(ex);
            }
        }
    }
}
