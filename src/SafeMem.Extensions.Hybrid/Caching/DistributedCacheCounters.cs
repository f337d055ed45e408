using System.Diagnostics.Metrics;
using Polly.CircuitBreaker;
using SafeMem.Telemetry;

namespace SafeMem.Extensions.Caching;

/// <summary>
/// The figures of one <see cref="ResilientDistributedCache"/>: operations by outcome, circuit openings and whether the
/// circuit is open now, operations in flight and their limit. Kept apart from the cache so the instrument registry (which holds this object weakly) never
/// reaches the cache itself.
/// </summary>
/// <remarks>
/// Outcomes go to striped counters: many threads finish distributed-cache operations at once, and one shared
/// interlocked counter per outcome would make them contend. Openings are rare and counted with one interlocked field.
/// </remarks>
internal sealed class DistributedCacheCounters
{
    public readonly StripedCounter Succeeded = new();
    public readonly StripedCounter Failed = new();
    public readonly StripedCounter TimedOut = new();
    public readonly StripedCounter Rejected = new();
    public readonly StripedCounter Cancelled = new();
    public readonly StripedCounter Throttled = new();
    private readonly CircuitBreakerStateProvider _circuit;
    private readonly InnerOperationRunner _runner;
    private long _openings;

    public DistributedCacheCounters(string name, CircuitBreakerStateProvider circuit, InnerOperationRunner runner)
    {
        Name = name;
        _circuit = circuit;
        _runner = runner;
    }

    public string Name { get; }

    public long Openings => Volatile.Read(ref _openings);

    /// <summary>Open, half-open (one trial under way) or isolated: operations do not reach the distributed cache.</summary>
    public bool IsCircuitOpen => _circuit.CircuitState is not CircuitState.Closed;

    public static InstrumentRegistry<DistributedCacheCounters> Registry(Meter meter)
        => InstrumentRegistry<DistributedCacheCounters>.For(meter, static registry =>
        {
            registry.CreateObservableCounter(
                InstrumentNames.For("distributed_cache", "operations"),
                InstrumentUnits.Operations,
                "Operations on the distributed cache behind a resilient wrapper, by outcome: succeeded, failed (the distributed cache threw), timed_out, rejected (the circuit was open; the distributed cache was not called), throttled (the limit of operations in flight was reached; the distributed cache was not called) or cancelled (by the caller).",
                new InstrumentRegistry<DistributedCacheCounters>.Reading(static c => c.Succeeded.Sum(), new(SafeMemTags.DistributedCacheOutcome, "succeeded")),
                new InstrumentRegistry<DistributedCacheCounters>.Reading(static c => c.Failed.Sum(), new(SafeMemTags.DistributedCacheOutcome, "failed")),
                new InstrumentRegistry<DistributedCacheCounters>.Reading(static c => c.TimedOut.Sum(), new(SafeMemTags.DistributedCacheOutcome, "timed_out")),
                new InstrumentRegistry<DistributedCacheCounters>.Reading(static c => c.Rejected.Sum(), new(SafeMemTags.DistributedCacheOutcome, "rejected")),
                new InstrumentRegistry<DistributedCacheCounters>.Reading(static c => c.Throttled.Sum(), new(SafeMemTags.DistributedCacheOutcome, "throttled")),
                new InstrumentRegistry<DistributedCacheCounters>.Reading(static c => c.Cancelled.Sum(), new(SafeMemTags.DistributedCacheOutcome, "cancelled")));
            registry.CreateObservableCounter(
                InstrumentNames.For("distributed_cache", "circuit.openings"),
                InstrumentUnits.Openings,
                "Times the circuit breaker around a distributed cache opened (stopped calling it after too many failures).",
                static c => c.Openings);
            registry.CreateObservableUpDownCounter(
                InstrumentNames.For("distributed_cache", "open_circuit.count"),
                InstrumentUnits.Circuits,
                "Open circuits: 1 while the circuit breaker around a distributed cache is open (or half-open, one trial under way), else 0.",
                static c => c.IsCircuitOpen ? 1 : 0);
            registry.CreateObservableUpDownCounter(
                InstrumentNames.For("distributed_cache", "operation.count"),
                InstrumentUnits.Operations,
                "Operations in flight on a distributed cache behind a resilient wrapper: started and not yet finished by it, those abandoned after the timeout and still running included.",
                static c => c._runner.InFlight);
            registry.CreateObservableUpDownCounter(
                InstrumentNames.For("distributed_cache", "operation.limit"),
                InstrumentUnits.Operations,
                "The most operations a resilient wrapper lets be in flight on its distributed cache (MaximumOperationsInFlight); beyond it, operations are throttled.",
                static c => c._runner.Limit);
        });

    public void OnOpened() => Interlocked.Increment(ref _openings);

    /// <summary>
    /// Counts a failed operation under its outcome. Returns false, so that it can be called from an exception filter:
    /// the exception is counted without being caught, and propagates with its stack untouched.
    /// </summary>
    public bool CountFailure(Exception exception, CancellationToken token)
    {
        StripedCounter outcome = exception switch
        {
            // IsolatedCircuitException derives from BrokenCircuitException.
            BrokenCircuitException => Rejected,
            DistributedCacheThrottledException => Throttled,
            OperationCanceledException when token.IsCancellationRequested => Cancelled,

            // The wrapper's own timeout, or one the distributed cache reports (StackExchange.Redis's derives from it).
            TimeoutException => TimedOut,
            _ => Failed,
        };
        outcome.Increment();
        return false;
    }

    public ResilientDistributedCacheStatistics Snapshot() => new()
    {
        Name = Name,
        Succeeded = Succeeded.Sum(),
        Failed = Failed.Sum(),
        TimedOut = TimedOut.Sum(),
        Rejected = Rejected.Sum(),
        Cancelled = Cancelled.Sum(),
        Throttled = Throttled.Sum(),
        CircuitOpenings = Openings,
        OperationsInFlight = _runner.InFlight,
        MaximumOperationsInFlight = _runner.Limit,
        IsCircuitOpen = IsCircuitOpen,
    };
}
