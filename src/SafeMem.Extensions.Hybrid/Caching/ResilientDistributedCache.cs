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
/// <para><b>What it holds.</b> The inner cache, strongly (it does not own or dispose it), and one Polly circuit
/// breaker. Nothing is held weakly and nothing is cached here.</para>
/// <para><b>Failures are reported, never hidden.</b> An asynchronous operation that has not finished after the
/// timeout fails with <see cref="TimeoutException"/>; while the circuit is open every operation fails at once with
/// <see cref="BrokenCircuitException"/> without calling the inner cache; exceptions of the inner cache propagate as
/// they are. A failed read is never turned into a miss here: a caller must be able to tell "absent" from "unknown"
/// (HybridCache treats an unreadable tag-invalidation record as "invalidated now", but an absent one as "never
/// invalidated"). Failures, timeouts included, count towards opening the circuit; a cancellation the caller asked
/// for does not.</para>
/// <para><b>The timeout bounds the whole operation.</b> Asynchronous operations start on the thread pool, so an inner
/// cache that does slow work before it returns its task (connecting, for instance) holds a pool thread rather than
/// the caller.</para>
/// <para><b>Abandoned operations.</b> An operation that timed out keeps running in the inner cache until that cache's
/// own timeout ends it; its result is dropped and its exception observed. It never touches the caller's buffers
/// afterwards: reads go through a buffer of this cache that is copied to the caller's writer only when the read
/// finished in time, and writes hand the inner cache a copy of the value, returned to the pool when the inner
/// write has finished. So the caller may reuse its buffers as soon as a call returns, whatever happened.</para>
/// <para><b>Synchronous members</b> go through the circuit breaker but have no timeout of their own (a synchronous
/// call cannot be abandoned): they are bounded by the inner cache's timeouts. HybridCache does not call them.</para>
/// <para><b>Telemetry.</b> Every finished operation is counted under one outcome (succeeded, failed, timed out,
/// rejected by the open circuit, cancelled by the caller), with the circuit's openings and whether it is open now:
/// <see cref="GetStatistics"/> and the <c>safemem.distributed_cache.*</c> instruments (docs/telemetry.md). Counting
/// takes no lock and no shared interlocked operation.</para>
/// <para><b>Thread-safety.</b> Every member is safe to call concurrently, as the inner cache's are.</para>
/// <para><b>Disposal.</b> There is nothing to dispose: the wrapper owns no resource, and the inner cache belongs to
/// whoever created it (the container, when registered by <c>AddSafeMemHybridCache</c>). Its instruments hold it
/// weakly: a wrapper that is no longer referenced is collected and stops reporting.</para>
/// </remarks>
public sealed class ResilientDistributedCache : IBufferDistributedCache
{
    private static readonly Action<Task, object?> s_releaseWhenDone = static (task, state) =>
    {
        // Observing the exception keeps an abandoned operation's failure from surfacing as an unobserved task exception.
        _ = task.Exception;
        switch (state)
        {
            case PooledBufferWriter scratch:
                scratch.Release();
                break;
            case byte[] rented:
                ArrayPool<byte>.Shared.Return(rented);
                break;
        }
    };

    private readonly IDistributedCache _inner;
    private readonly IBufferDistributedCache? _innerBuffers;
    private readonly ResiliencePipeline _pipeline;
    private readonly CircuitBreakerStateProvider _circuit = new();
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _timeProvider;
    private readonly DistributedCacheCounters _counters;

    /// <summary>Creates a cache over <paramref name="inner"/> with <paramref name="optionsAccessor"/> (a <see cref="ResilientDistributedCacheOptions"/> itself will do).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="inner"/>, <paramref name="optionsAccessor"/> or its value is null.</exception>
    public ResilientDistributedCache(IDistributedCache inner, IOptions<ResilientDistributedCacheOptions> optionsAccessor)
        : this(inner, optionsAccessor, fallbackMeterFactory: null)
    {
    }

    /// <summary>Creates a cache; <paramref name="fallbackMeterFactory"/> (the container's) is used when the options name no meter factory.</summary>
    internal ResilientDistributedCache(IDistributedCache inner, IOptions<ResilientDistributedCacheOptions> optionsAccessor, IMeterFactory? fallbackMeterFactory)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(optionsAccessor);
        ResilientDistributedCacheOptions options = optionsAccessor.Value;
        ArgumentNullException.ThrowIfNull(options, nameof(optionsAccessor));

        _inner = inner;
        _innerBuffers = inner as IBufferDistributedCache;
        _timeout = options.Timeout;
        _timeProvider = options.TimeProvider;
        var counters = new DistributedCacheCounters(InstanceNames.Resolve(options.Name, "distributed-cache"), _circuit);
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
        return ExecuteAsync(
            static (state, token) => state.Self.WithTimeoutAsync(OnThreadPool(static s => s.Inner.GetAsync(s.Key, s.Token), (Inner: state.Self._inner, state.Key, Token: token)), token),
            (Self: this, Key: key),
            token).AsTask();
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
        Execute(static state => state.Self._inner.Set(state.Key, state.Value, state.Options), (Self: this, Key: key, Value: value, Options: options));
    }

    /// <inheritdoc/>
    public void Set(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(options);
        Execute(static state => state.Self.SetCore(state.Key, state.Value, state.Options), (Self: this, Key: key, Value: value, Options: options));
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
            static (state, token) => state.Self.WithTimeoutAsync(OnThreadPool(static s => s.Inner.RefreshAsync(s.Key, s.Token), (Inner: state.Self._inner, state.Key, Token: token)), token),
            (Self: this, Key: key),
            token).AsTask();
    }

    /// <inheritdoc/>
    public void Remove(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Execute(static state => state.Self._inner.Remove(state.Key), (Self: this, Key: key));
    }

    /// <inheritdoc/>
    public Task RemoveAsync(string key, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        return ExecuteAsync(
            static (state, token) => state.Self.WithTimeoutAsync(OnThreadPool(static s => s.Inner.RemoveAsync(s.Key, s.Token), (Inner: state.Self._inner, state.Key, Token: token)), token),
            (Self: this, Key: key),
            token).AsTask();
    }

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
        => exception is not null && !(exception is OperationCanceledException && token.IsCancellationRequested);

    private async ValueTask<T> WithTimeoutAsync<T>(Task<T> operation, CancellationToken token)
    {
        try
        {
            return await operation.WaitAsync(_timeout, _timeProvider, token).ConfigureAwait(false);
        }
        catch
        {
            Abandon(operation, state: null);
            throw;
        }
    }

    private async ValueTask WithTimeoutAsync(Task operation, CancellationToken token)
    {
        try
        {
            await operation.WaitAsync(_timeout, _timeProvider, token).ConfigureAwait(false);
        }
        catch
        {
            Abandon(operation, state: null);
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

    private async ValueTask<bool> TryGetCoreAsync(string key, IBufferWriter<byte> destination, CancellationToken token)
    {
        if (_innerBuffers is null)
        {
            byte[]? value = await WithTimeoutAsync(OnThreadPool(static s => s.Inner.GetAsync(s.Key, s.Token), (Inner: _inner, Key: key, Token: token)), token).ConfigureAwait(false);
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
        var scratch = new PooledBufferWriter();
        Task<bool> read = OnThreadPool(
            static s => s.Inner.TryGetAsync(s.Key, s.Scratch, s.Token).AsTask(),
            (Inner: _innerBuffers, Key: key, Scratch: scratch, Token: token));

        bool found;
        try
        {
            found = await read.WaitAsync(_timeout, _timeProvider, token).ConfigureAwait(false);
        }
        catch
        {
            Abandon(read, scratch);
            throw;
        }

        if (found)
        {
            destination.Write(scratch.WrittenSpan);
        }

        scratch.Release();
        return found;
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
        Task write;
        byte[]? rented = null;
        if (_innerBuffers is not null)
        {
            int length = checked((int)value.Length);
            rented = ArrayPool<byte>.Shared.Rent(length);
            value.CopyTo(rented);
            write = OnThreadPool(
                static s => s.Inner.SetAsync(s.Key, new ReadOnlySequence<byte>(s.Rented, 0, s.Length), s.Options, s.Token).AsTask(),
                (Inner: _innerBuffers, Key: key, Rented: rented, Length: length, Options: options, Token: token));
        }
        else
        {
            write = OnThreadPool(
                static s => s.Inner.SetAsync(s.Key, s.Value, s.Options, s.Token),
                (Inner: _inner, Key: key, Value: value.ToArray(), Options: options, Token: token));
        }

        try
        {
            await write.WaitAsync(_timeout, _timeProvider, token).ConfigureAwait(false);
        }
        catch
        {
            Abandon(write, rented);
            throw;
        }

        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Starts an inner operation on the thread pool. An inner cache may do slow work before it returns its task
    /// (connecting, or a synchronous wait): that must hold a pool thread, not the caller, so that the timeout bounds the
    /// whole operation. The hop costs microseconds next to a network round trip.
    /// </summary>
    private static Task<T> OnThreadPool<TState, T>(Func<TState, Task<T>> operation, TState state)
        => Task.Factory.StartNew(
            static boxed =>
            {
                var (operation, state) = ((Func<TState, Task<T>>, TState))boxed!;
                return operation(state);
            },
            (operation, state),
            CancellationToken.None,
            TaskCreationOptions.DenyChildAttach,
            TaskScheduler.Default).Unwrap();

    private static Task OnThreadPool<TState>(Func<TState, Task> operation, TState state)
        => Task.Factory.StartNew(
            static boxed =>
            {
                var (operation, state) = ((Func<TState, Task>, TState))boxed!;
                return operation(state);
            },
            (operation, state),
            CancellationToken.None,
            TaskCreationOptions.DenyChildAttach,
            TaskScheduler.Default).Unwrap();

    /// <summary>Lets an operation that failed or timed out finish on its own, then releases <paramref name="state"/> (a buffer it may still use).</summary>
    private static void Abandon(Task operation, object? state)
        => operation.ContinueWith(s_releaseWhenDone, state, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
}
