using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using SafeMem.Telemetry;

namespace SafeMem.Extensions.Caching;

/// <summary>
/// An <see cref="IDistributedCache"/> (and <see cref="IBufferDistributedCache"/>) that puts a timeout and a circuit
/// breaker (Polly) around another one, so that an unreachable or frozen distributed cache costs its callers at most
/// <see cref="ResilientDistributedCacheOptions.Timeout"/> per operation, and nothing at all while the circuit is open.
/// Made for HybridCache's L2: HybridCache treats a failed L2 read as a miss and a failed L2 write as a skipped one, so
/// an outage only turns shared entries into local ones until the distributed cache is back.
/// </summary>
/// <remarks>
/// <para><b>What it holds.</b> The inner cache, strongly (it does not own or dispose it), one Polly circuit breaker,
/// and the operations in flight until they finish. Nothing is held weakly and nothing is cached here.</para>
/// <para><b>Failures are reported, never hidden.</b> An asynchronous operation that has not finished after the
/// timeout fails with <see cref="TimeoutException"/>; while the circuit is open every operation fails at once with
/// <see cref="BrokenCircuitException"/> without calling the inner cache (and beyond the limit of operations in flight,
/// with <see cref="DistributedCacheThrottledException"/>); exceptions of the inner cache propagate as they are. A failed read is never turned into a miss here: a caller must be able to tell "absent" from "unknown"
/// (HybridCache treats an unreadable tag-invalidation record as "invalidated now", but an absent one as "never
/// invalidated"). Failures, timeouts included, count towards opening the circuit; a cancellation the caller asked
/// for does not.</para>
/// <para><b>The timeout bounds the whole operation, independently of the thread pool.</b> Asynchronous operations are
/// started on threads of this cache (a few per processor, started on demand, ended when idle), never on the caller's
/// thread nor on the thread pool: an inner cache that does slow work before it returns its task (connecting,
/// resolving a name, a synchronous wait) holds those threads only. Started on the pool, a few hundred such calls
/// would block its workers, and the timeout's continuation (like all other work) would wait seconds for the pool to
/// grow. The timeout itself is a timer, which needs no pool thread to fire. An operation whose timeout passed before
/// a thread could start it is never started.</para>
/// <para><b>At most <see cref="ResilientDistributedCacheOptions.MaximumOperationsInFlight"/> operations are in
/// flight</b> (queued for those threads, running in the inner cache, or abandoned and still running there); beyond
/// that, an operation fails at once with <see cref="DistributedCacheThrottledException"/> without calling the inner
/// cache, and the breaker counts it neither as a failure nor as a success. So a blocking or frozen client costs
/// bounded threads and bounded memory, and each caller at most the timeout.</para>
/// <para><b>Abandoned operations.</b> An operation that timed out keeps running in the inner cache until that cache's
/// own timeout ends it; its result is dropped and its exception observed. It never touches the caller's buffers
/// afterwards: reads go through a buffer of this cache that is copied to the caller's writer only when the read
/// finished in time, and writes hand the inner cache a copy of the value, returned to the pool when the inner
/// write has finished. So the caller may reuse its buffers as soon as a call returns, whatever happened.</para>
/// <para><b>Synchronous members</b> go through the circuit breaker but have no timeout of their own (a synchronous
/// call cannot be abandoned): they are bounded by the inner cache's timeouts. HybridCache does not call them.</para>
/// <para><b>Telemetry.</b> Every finished operation is counted under one outcome (succeeded, failed, timed out,
/// rejected by the open circuit, throttled by the limit of operations in flight, cancelled by the caller), with the
/// circuit's openings and whether it is open now, and the operations in flight against their limit:
/// <see cref="GetStatistics"/> and the <c>safemem.distributed_cache.*</c> instruments (docs/telemetry.md). Counting
/// outcomes takes no lock and no shared interlocked operation; the in-flight bound takes one interlocked increment
/// and one decrement per operation on a shared field (a bound cannot be striped), next to a network round trip.</para>
/// <para><b>Thread-safety.</b> Every member is safe to call concurrently, as the inner cache's are.</para>
/// <para><b>Disposal.</b> There is nothing to dispose: the wrapper's threads end on their own once idle (a thread that a
/// client blocks ends when the client lets it go), and the inner cache belongs to whoever created it (the container,
/// when registered by <c>AddSafeMemHybridCache</c>). Its threads and instruments never reach the wrapper itself: a
/// wrapper that is no longer referenced is collected and stops reporting.</para>
/// </remarks>
public sealed class ResilientDistributedCache : IBufferDistributedCache
{
    private static readonly Action<Task, object?> s_releaseWhenDone = static (task, state) =>
    {
        // Observing the exception keeps an abandoned operation's failure from surfacing as an unobserved task exception.
        _ = task.Exception;
        Release(state);
    };

    private readonly IDistributedCache _inner;
    private readonly IBufferDistributedCache? _innerBuffers;
    private readonly ResiliencePipeline _pipeline;
    private readonly CircuitBreakerStateProvider _circuit = new();
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _timeProvider;
    private readonly DistributedCacheCounters _counters;
    private readonly InnerOperationRunner _runner;
    private readonly IDistributedCacheObserver? _observer;

    /// <summary>Creates a cache over <paramref name="inner"/> with <paramref name="optionsAccessor"/> (a <see cref="ResilientDistributedCacheOptions"/> itself will do).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="inner"/>, <paramref name="optionsAccessor"/> or its value is null.</exception>
    public ResilientDistributedCache(IDistributedCache inner, IOptions<ResilientDistributedCacheOptions> optionsAccessor)
        : this(inner, optionsAccessor, fallbackMeterFactory: null, observer: null)
    {
    }

    /// <summary>
    /// Creates a cache; <paramref name="fallbackMeterFactory"/> (the container's) is used when the options name no meter
    /// factory, and <paramref name="observer"/> (the Redis backplane, when registered) hears of changes and reads.
    /// </summary>
    internal ResilientDistributedCache(
        IDistributedCache inner, IOptions<ResilientDistributedCacheOptions> optionsAccessor, IMeterFactory? fallbackMeterFactory, IDistributedCacheObserver? observer)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(optionsAccessor);
        ResilientDistributedCacheOptions options = optionsAccessor.Value;
        ArgumentNullException.ThrowIfNull(options, nameof(optionsAccessor));

        _inner = inner;
        _innerBuffers = inner as IBufferDistributedCache;
        _observer = observer;
        _timeout = options.Timeout;
        _timeProvider = options.TimeProvider;
        _runner = new InnerOperationRunner(options.MaximumOperationsInFlight);
        var counters = new DistributedCacheCounters(InstanceNames.Resolve(options.Name, "distributed-cache"), _circuit, _runner);
        _counters = counters;
        _pipeline = new ResiliencePipelineBuilder { TimeProvider = options.TimeProvider }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = options.FailureRatio,
                MinimumThroughput = options.MinimumThroughput,
                SamplingDuration = options.SamplingDuration,
                BreakDuration = options.BreakDuration,
                ShouldHandle = static args => new ValueTask<bool>(IsFailure(args.Outcome.Exception, args.Context.CancellationToken)),
                StateProvider = _circuit,
                OnOpened = _ =>
                {
                    counters.OnOpened();
                    return default;
                },
            })
            .Build();

        // Not kept: the registry holds the counters weakly and forgets them once this cache (their only owner) is gone.
        _ = DistributedCacheCounters.Registry(SafeMemMeter.Resolve(options.MeterFactory ?? fallbackMeterFactory)).Register(counters, counters.Name);
    }

    /// <summary>Gets the inner cache.</summary>
    public IDistributedCache InnerCache => _inner;

    /// <summary>Gets the cache's name: the <c>safemem.name</c> tag of its measurements.</summary>
    public string Name => _counters.Name;

    /// <summary>Returns a snapshot of the cache's figures: operations by outcome and the circuit's state.</summary>
    public ResilientDistributedCacheStatistics GetStatistics() => _counters.Snapshot();

    /// <summary>The runner of inner operations (for tests).</summary>
    internal InnerOperationRunner Runner => _runner;

    /// <summary>The breaker's state (for tests and diagnostics).</summary>
    internal CircuitState CircuitState => _circuit.CircuitState;

    /// <inheritdoc/>
    public byte[]? Get(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Execute(static state => state.Self._inner.Get(state.Key), (Self: this, Key: key));
    }

    /// <inheritdoc/>
    public Task<byte[]?> GetAsync(string key, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        return ExecuteAsync(static (state, token) => state.Self.GetCoreAsync(state.Key, token), (Self: this, Key: key), token).AsTask();
    }

    /// <inheritdoc/>
    public bool TryGet(string key, IBufferWriter<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(destination);
        return Execute(static state => state.Self.TryGetCore(state.Key, state.Destination), (Self: this, Key: key, Destination: destination));
    }

    /// <inheritdoc/>
    public ValueTask<bool> TryGetAsync(string key, IBufferWriter<byte> destination, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(destination);
        return ExecuteAsync(
            static (state, token) => state.Self.TryGetCoreAsync(state.Key, state.Destination, token),
            (Self: this, Key: key, Destination: destination),
            token);
    }

    /// <inheritdoc/>
    public void Set(string key, byte[] value, DistributedCacheEntryOptions options)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(options);
        if (_observer?.SkipWrite(key) == true)
        {
            return;
        }

        Observe(key, TagRecord(key, new ReadOnlySequence<byte>(value)), static state => state.Self.Execute(static s => s.Self._inner.Set(s.Key, s.Value, s.Options), state), (Self: this, Key: key, Value: value, Options: options));
    }

    /// <inheritdoc/>
    public void Set(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(options);
        if (_observer?.SkipWrite(key) == true)
        {
            return;
        }

        Observe(key, TagRecord(key, value), static state => state.Self.Execute(static s => s.Self.SetCore(s.Key, s.Value, s.Options), state), (Self: this, Key: key, Value: value, Options: options));
    }

    /// <inheritdoc/>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "Both overloads implement interface members whose shapes IDistributedCache and IBufferDistributedCache fix.")]
    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(options);
        return SetAsync(key, new ReadOnlySequence<byte>(value), options, token).AsTask();
    }

    /// <inheritdoc/>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "Both overloads implement interface members whose shapes IDistributedCache and IBufferDistributedCache fix.")]
    public ValueTask SetAsync(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(options);
        if (_observer is not null)
        {
            return _observer.SkipWrite(key) ? default : ObservedSetAsync(key, value, options, token);
        }

        return ExecuteAsync(
            static (state, token) => state.Self.SetCoreAsync(state.Key, state.Value, state.Options, token),
            (Self: this, Key: key, Value: value, Options: options),
            token);
    }

    /// <inheritdoc/>
    public void Refresh(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Execute(static state => state.Self._inner.Refresh(state.Key), (Self: this, Key: key));
    }

    /// <inheritdoc/>
    public Task RefreshAsync(string key, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        return ExecuteAsync(
            static (state, token) => state.Self.RunInnerAsync<(IDistributedCache Inner, string Key, CancellationToken Token), bool>(
                static s => s.Inner.RefreshAsync(s.Key, s.Token), (state.Self._inner, state.Key, token), buffer: null, token),
            (Self: this, Key: key),
            token).AsTask();
    }

    /// <inheritdoc/>
    public void Remove(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Observe(key, null, static state => state.Self.Execute(static s => s.Self._inner.Remove(s.Key), state), (Self: this, Key: key));
    }

    /// <inheritdoc/>
    public Task RemoveAsync(string key, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        Task removal = ExecuteAsync(
            static (state, token) => state.Self.RunInnerAsync<(IDistributedCache Inner, string Key, CancellationToken Token), bool>(
                static s => s.Inner.RemoveAsync(s.Key, s.Token), (state.Self._inner, state.Key, token), buffer: null, token),
            (Self: this, Key: key),
            token).AsTask();
        return _observer is null ? removal : ObserveAsync(key, tagRecord: null, removal);
    }

    /// <summary>
    /// Writes through <see cref="ExecuteAsync{TState}"/> and tells the observer whether the write reached the inner
    /// cache. A tag record's bytes are copied before the first await: the caller may recycle its buffer afterwards.
    /// </summary>
    private ValueTask ObservedSetAsync(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options, CancellationToken token)
        => new(ObserveAsync(
            key,
            TagRecord(key, value),
            ExecuteAsync(
                static (state, token) => state.Self.SetCoreAsync(state.Key, state.Value, state.Options, token),
                (Self: this, Key: key, Value: value, Options: options),
                token).AsTask()));

    private async Task ObserveAsync(string key, byte[]? tagRecord, Task change)
    {
        try
        {
            await change.ConfigureAwait(false);
        }
        catch
        {
            // Failed, timed out, refused or cancelled: the distributed cache may still hold the old value. Whatever the
            // reason, the observer keeps the change to announce (and, for the backplane, to repeat) later.
            _observer!.OnChangeFailed(key, tagRecord);
            throw;
        }

        _observer!.OnChanged(key, tagRecord);
    }

    private void Observe<TState>(string key, byte[]? tagRecord, Action<TState> change, TState state)
    {
        if (_observer is null)
        {
            change(state);
            return;
        }

        try
        {
            change(state);
        }
        catch
        {
            _observer.OnChangeFailed(key, tagRecord);
            throw;
        }

        _observer.OnChanged(key, tagRecord);
    }

    /// <summary>The bytes of a HybridCache tag record (8 of them) when <paramref name="key"/> is one and an observer listens; otherwise null.</summary>
    private byte[]? TagRecord(string key, ReadOnlySequence<byte> value)
        => _observer is not null && key.StartsWith(IDistributedCacheObserver.TagKeyPrefix, StringComparison.Ordinal) && value.Length <= 64 ? value.ToArray() : null;

    private TResult Execute<TState, TResult>(Func<TState, TResult> operation, TState state)
    {
        TResult result;
        try
        {
            result = _pipeline.Execute(operation, state);
        }
        catch (Exception exception) when (_counters.CountFailure(exception, CancellationToken.None))
        {
            throw; // never reached: the filter counts and declines
        }

        _counters.Succeeded.Increment();
        return result;
    }

    private void Execute<TState>(Action<TState> operation, TState state)
    {
        try
        {
            _pipeline.Execute(operation, state);
        }
        catch (Exception exception) when (_counters.CountFailure(exception, CancellationToken.None))
        {
            throw; // never reached: the filter counts and declines
        }

        _counters.Succeeded.Increment();
    }

    private async ValueTask<TResult> ExecuteAsync<TState, TResult>(Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, CancellationToken token)
    {
        // Refused before the breaker: a throttled operation says nothing about the distributed cache's health, and the
        // breaker would count it as a success (it knows only failures and successes), holding an unhealthy circuit closed.
        ThrowIfThrottled();
        TResult result;
        try
        {
            result = await _pipeline.ExecuteAsync(operation, state, token).ConfigureAwait(false);
        }
        catch (Exception exception) when (_counters.CountFailure(exception, token))
        {
            throw; // never reached: the filter counts and declines
        }

        _counters.Succeeded.Increment();
        return result;
    }

    private async ValueTask ExecuteAsync<TState>(Func<TState, CancellationToken, ValueTask> operation, TState state, CancellationToken token)
    {
        // Refused before the breaker: a throttled operation says nothing about the distributed cache's health, and the
        // breaker would count it as a success (it knows only failures and successes), holding an unhealthy circuit closed.
        ThrowIfThrottled();
        try
        {
            await _pipeline.ExecuteAsync(operation, state, token).ConfigureAwait(false);
        }
        catch (Exception exception) when (_counters.CountFailure(exception, token))
        {
            throw; // never reached: the filter counts and declines
        }

        _counters.Succeeded.Increment();
    }

    private static bool IsFailure(Exception? exception, CancellationToken token)
        => exception is not null
            && exception is not DistributedCacheThrottledException // refused by the bound, in the rare race past ThrowIfThrottled
            && !(exception is OperationCanceledException && token.IsCancellationRequested);

    private void ThrowIfThrottled()
    {
        if (_runner.IsFull)
        {
            ThrowThrottled();
        }
    }

    [DoesNotReturn]
    private void ThrowThrottled()
    {
        _counters.Throttled.Increment();
        throw new DistributedCacheThrottledException();
    }

    /// <summary>
    /// Runs one inner operation: queued on the runner (or refused at once, beyond the bound), awaited for at most the
    /// timeout, and abandoned (skipped if it has not started, else left to finish) when the timeout or the caller's
    /// token ends the wait first. <paramref name="buffer"/> is released once the inner cache can no longer touch it.
    /// </summary>
    private async ValueTask<T> RunInnerAsync<TState, T>(Func<TState, Task> start, TState state, object? buffer, CancellationToken token)
    {
        var operation = new InnerOperation<TState, T>(start, state);
        if (!_runner.TryStart(operation))
        {
            // Lost the race against the hint in ThrowIfThrottled; counted by the exception filter, as a throttled outcome.
            Release(buffer);
            throw new DistributedCacheThrottledException();
        }

        try
        {
            return await operation.Task.WaitAsync(_timeout, _timeProvider, token).ConfigureAwait(false);
        }
        catch
        {
            // Not started yet: it never will be, and its task is cancelled now. Started: it finishes in its own time.
            operation.TryAbandon();
            Abandon(operation.Task, buffer);
            throw;
        }
    }

    private bool TryGetCore(string key, IBufferWriter<byte> destination)
    {
        if (_innerBuffers is not null)
        {
            return _innerBuffers.TryGet(key, destination);
        }

        byte[]? value = _inner.Get(key);
        if (value is null)
        {
            return false;
        }

        destination.Write(value);
        return true;
    }

    /// <summary>
    /// How often a read is repeated because another node changed its key while it ran: the answer may predate the
    /// change, and HybridCache would keep it in L1 until its local expiration. The repeat starts after the change was
    /// heard, so it reads what the changing node wrote (that node announces a change only once the change is in Redis).
    /// </summary>
    private const int MaximumReadAttempts = 3;

    private async ValueTask<byte[]?> GetCoreAsync(string key, CancellationToken token)
    {
        for (int attempt = 1; ; attempt++)
        {
            long stamp = _observer?.ReadStamp() ?? 0;
            byte[]? value = await RunInnerAsync<(IDistributedCache Inner, string Key, CancellationToken Token), byte[]?>(
                static s => s.Inner.GetAsync(s.Key, s.Token), (_inner, key, token), buffer: null, token).ConfigureAwait(false);
            if (_observer is null)
            {
                return value;
            }

            if (attempt < MaximumReadAttempts && _observer.ChangedSince(key, stamp))
            {
                continue;
            }

            _observer.OnRead(key, value, value is not null);
            return value;
        }
    }

    private async ValueTask<bool> TryGetCoreAsync(string key, IBufferWriter<byte> destination, CancellationToken token)
    {
        if (_innerBuffers is null)
        {
            byte[]? value = await GetCoreAsync(key, token).ConfigureAwait(false);
            if (value is null)
            {
                return false;
            }

            destination.Write(value);
            return true;
        }

        // The inner read writes into a buffer of ours, copied to the caller's only once the read has finished in time:
        // an abandoned read may still write when its own timeout ends it, and by then the caller (HybridCache) has
        // recycled its buffer. The scratch buffer goes back to the pool only when the inner read is over.
        for (int attempt = 1; ; attempt++)
        {
            long stamp = _observer?.ReadStamp() ?? 0;
            var scratch = new PooledBufferWriter();
            bool found = await RunInnerAsync<(IBufferDistributedCache Inner, string Key, PooledBufferWriter Scratch, CancellationToken Token), bool>(
                static s => s.Inner.TryGetAsync(s.Key, s.Scratch, s.Token).AsTask(), (_innerBuffers, key, scratch, token), scratch, token).ConfigureAwait(false);
            if (_observer is not null)
            {
                if (attempt < MaximumReadAttempts && _observer.ChangedSince(key, stamp))
                {
                    scratch.Release();
                    continue;
                }

                _observer.OnRead(key, scratch.WrittenSpan, found);
            }

            if (found)
            {
                destination.Write(scratch.WrittenSpan);
            }

            scratch.Release();
            return found;
        }
    }

    private void SetCore(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options)
    {
        if (_innerBuffers is not null)
        {
            _innerBuffers.Set(key, value, options);
        }
        else
        {
            _inner.Set(key, value.ToArray(), options);
        }
    }

    private async ValueTask SetCoreAsync(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options, CancellationToken token)
    {
        // The inner write gets a copy: if it is abandoned it may read its value after this call has returned, and by
        // then the caller (HybridCache) has recycled the buffer behind the sequence. A pooled copy for an inner cache
        // that takes sequences, a right-sized array (which that cache may keep) for one that takes byte[] only.
        if (_innerBuffers is not null)
        {
            int length = checked((int)value.Length);
            byte[] rented = ArrayPool<byte>.Shared.Rent(length);
            value.CopyTo(rented);
            await RunInnerAsync<(IBufferDistributedCache Inner, string Key, byte[] Rented, int Length, DistributedCacheEntryOptions Options, CancellationToken Token), bool>(
                static s => s.Inner.SetAsync(s.Key, new ReadOnlySequence<byte>(s.Rented, 0, s.Length), s.Options, s.Token).AsTask(),
                (_innerBuffers, key, rented, length, options, token),
                rented,
                token).ConfigureAwait(false);
            ArrayPool<byte>.Shared.Return(rented);
        }
        else
        {
            await RunInnerAsync<(IDistributedCache Inner, string Key, byte[] Value, DistributedCacheEntryOptions Options, CancellationToken Token), bool>(
                static s => s.Inner.SetAsync(s.Key, s.Value, s.Options, s.Token),
                (_inner, key, value.ToArray(), options, token),
                buffer: null,
                token).ConfigureAwait(false);
        }
    }

    /// <summary>Lets an operation that failed or timed out finish on its own, then releases <paramref name="state"/> (a buffer it may still use).</summary>
    private static void Abandon(Task operation, object? state)
        => operation.ContinueWith(s_releaseWhenDone, state, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    private static void Release(object? buffer)
    {
        switch (buffer)
        {
            case PooledBufferWriter scratch:
                scratch.Release();
                break;
            case byte[] rented:
                ArrayPool<byte>.Shared.Return(rented);
                break;
        }
    }
}
