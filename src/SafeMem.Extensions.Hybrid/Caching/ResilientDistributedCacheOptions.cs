using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using SafeMem.Telemetry;

namespace SafeMem.Extensions.Caching;

/// <summary>
/// Options for <see cref="ResilientDistributedCache"/>: how long one distributed-cache operation may take, and when
/// the circuit breaker stops calling the distributed cache and when it tries again. Implements
/// <see cref="IOptions{TOptions}"/>, so an instance can be passed to the cache directly or configured through the
/// options pattern.
/// </summary>
/// <remarks>
/// The defaults keep a HybridCache miss within its factory's time plus 100 ms while the distributed cache is down or
/// frozen: each operation is abandoned after <see cref="Timeout"/> (50 ms), and once half of at least
/// <see cref="MinimumThroughput"/> operations in the last <see cref="SamplingDuration"/> (2 s) have failed, no
/// operation waits at all for <see cref="BreakDuration"/> (5 s), after which one trial operation decides whether to
/// close the circuit again.
/// Setters reject values that can never be valid. The cache copies what it needs when it is built, so later changes
/// to this instance do not affect it. The options hold their <see cref="TimeProvider"/> and <see cref="MeterFactory"/> strongly and own nothing.
/// They are not safe for concurrent mutation: configure them on one thread, then share them.
/// </remarks>
public sealed class ResilientDistributedCacheOptions : IOptions<ResilientDistributedCacheOptions>
{
    private static readonly TimeSpan s_minimumDuration = TimeSpan.FromMilliseconds(500);

    private TimeSpan _timeout = TimeSpan.FromMilliseconds(50);
    private double _failureRatio = 0.5;
    private int _minimumThroughput = 10;
    private TimeSpan _samplingDuration = TimeSpan.FromSeconds(2);
    private TimeSpan _breakDuration = TimeSpan.FromSeconds(5);
    private int _maximumOperationsInFlight = 1_000;
    private TimeProvider _timeProvider = TimeProvider.System;
    private string? _name;

    /// <summary>Gets or sets the cache's name: the <c>safemem.name</c> tag of its measurements.</summary>
    /// <value>
    /// Not empty or white space, or <see langword="null"/> (the default) for a generated unique name
    /// (<c>distributed-cache-1</c>, <c>distributed-cache-2</c>, ...), so two unnamed caches never report as one series.
    /// </value>
    /// <exception cref="ArgumentException">The value is empty or white space.</exception>
    public string? Name
    {
        get => _name;
        set => _name = InstanceNames.CheckOption(value);
    }

    /// <summary>
    /// Gets or sets how long one asynchronous operation on the distributed cache may take before it is abandoned (it
    /// fails with a <see cref="TimeoutException"/> and counts as a failure for the circuit breaker).
    /// </summary>
    /// <value>Greater than zero; defaults to 50 ms. A healthy Redis on the same network answers in about a millisecond.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public TimeSpan Timeout
    {
        get => _timeout;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero);
            _timeout = value;
        }
    }

    /// <summary>
    /// Gets or sets how many asynchronous operations may be in flight at once: started and not yet finished by the
    /// distributed cache, those abandoned after <see cref="Timeout"/> and still running there included. An operation
    /// beyond the limit fails at once with <see cref="DistributedCacheThrottledException"/> (outcome <c>throttled</c>)
    /// without calling the distributed cache, and counts neither as a failure nor as a success for the circuit
    /// breaker. The limit bounds the operations queued in front of a client that blocks its callers, and the memory
    /// that abandoned operations hold (each keeps a copy of its value, or a buffer for its answer, until it finishes).
    /// </summary>
    /// <value>
    /// At least 1; defaults to 1,000 (the default permit limit of Polly's concurrency limiter). A healthy Redis answers
    /// in about a millisecond, so a node reaches the default only past hundreds of thousands of operations per second,
    /// or when the distributed cache stops answering.
    /// </value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int MaximumOperationsInFlight
    {
        get => _maximumOperationsInFlight;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _maximumOperationsInFlight = value;
        }
    }

    /// <summary>Gets or sets the share of failed operations, among those in <see cref="SamplingDuration"/>, that opens the circuit.</summary>
    /// <value>Greater than 0 and at most 1; defaults to 0.5.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is not greater than 0 or is greater than 1.</exception>
    public double FailureRatio
    {
        get => _failureRatio;
        set
        {
            if (!(value > 0 && value <= 1))
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "The failure ratio must be greater than 0 and at most 1.");
            }

            _failureRatio = value;
        }
    }

    /// <summary>Gets or sets how many operations must have run in <see cref="SamplingDuration"/> before the circuit may open.</summary>
    /// <value>At least 2; defaults to 10.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 2.</exception>
    public int MinimumThroughput
    {
        get => _minimumThroughput;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 2);
            _minimumThroughput = value;
        }
    }

    /// <summary>
    /// Gets or sets the sliding window over which failures are counted. Successes from before an outage stay in the
    /// window for this long and hold the circuit closed; under steady traffic the circuit opens after about
    /// <see cref="FailureRatio"/> times this window, and until then every operation costs up to <see cref="Timeout"/>.
    /// </summary>
    /// <value>At least 500 ms; defaults to 2 s.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 500 ms.</exception>
    public TimeSpan SamplingDuration
    {
        get => _samplingDuration;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, s_minimumDuration);
            _samplingDuration = value;
        }
    }

    /// <summary>
    /// Gets or sets how long the circuit stays open (every operation fails at once with a
    /// <see cref="Polly.CircuitBreaker.BrokenCircuitException"/>) before one trial operation may reach the distributed
    /// cache again. It bounds how long sharing through the distributed cache stays off after the cache has come back.
    /// </summary>
    /// <value>At least 500 ms; defaults to 5 s.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 500 ms.</exception>
    public TimeSpan BreakDuration
    {
        get => _breakDuration;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, s_minimumDuration);
            _breakDuration = value;
        }
    }

    /// <summary>Gets or sets the clock that timeouts, failure windows and breaks are measured with.</summary>
    /// <value>Defaults to <see cref="TimeProvider.System"/>.</value>
    /// <exception cref="ArgumentNullException">The value is null.</exception>
    public TimeProvider TimeProvider
    {
        get => _timeProvider;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            _timeProvider = value;
        }
    }

    /// <summary>
    /// Gets or sets the factory of the meter the cache publishes its <c>safemem.distributed_cache.*</c> instruments on.
    /// <c>AddSafeMemHybridCache</c> uses the container's factory when one is registered and this is left null.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: the shared <c>SafeMem</c> meter.</value>
    public IMeterFactory? MeterFactory { get; set; }

    /// <inheritdoc/>
    ResilientDistributedCacheOptions IOptions<ResilientDistributedCacheOptions>.Value => this;
}
