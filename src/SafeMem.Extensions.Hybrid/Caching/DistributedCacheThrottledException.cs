using Polly;

namespace SafeMem.Extensions.Caching;

/// <summary>
/// Thrown by a <see cref="ResilientDistributedCache"/> operation refused at once because
/// <see cref="ResilientDistributedCacheOptions.MaximumOperationsInFlight"/> operations were already in flight: the
/// distributed cache was not called. Like the circuit breaker's <see cref="Polly.CircuitBreaker.BrokenCircuitException"/>,
/// it derives from <see cref="ExecutionRejectedException"/>, so one catch covers both refusals.
/// </summary>
/// <remarks>Holds nothing beyond its message. Safe to share across threads once thrown, as exceptions are.</remarks>
public sealed class DistributedCacheThrottledException : ExecutionRejectedException
{
    /// <summary>Creates the exception with the default message.</summary>
    public DistributedCacheThrottledException()
        : base("The distributed cache was not called: the limit of operations in flight was reached (ResilientDistributedCacheOptions.MaximumOperationsInFlight).")
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/>.</summary>
    /// <param name="message">The message.</param>
    public DistributedCacheThrottledException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/> and the exception that caused it.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public DistributedCacheThrottledException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
