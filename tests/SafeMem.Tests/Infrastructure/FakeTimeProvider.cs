namespace SafeMem.Tests.Infrastructure;

/// <summary>
/// A <see cref="TimeProvider"/> whose clock moves only when a test says so (Microsoft.Extensions.TimeProvider.Testing
/// is not available to this build). Timers are not supported: SafeMem blocks must not need them.
/// </summary>
public sealed class FakeTimeProvider : TimeProvider
{
    private long _utcTicks;

    public FakeTimeProvider(DateTimeOffset? start = null)
        => _utcTicks = (start ?? new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)).UtcTicks;

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _utcTicks), TimeSpan.Zero);

    public override long GetTimestamp() => Interlocked.Read(ref _utcTicks);

    /// <summary>Moves the clock forward.</summary>
    public void Advance(TimeSpan delta)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delta, TimeSpan.Zero);
        Interlocked.Add(ref _utcTicks, delta.Ticks);
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        => throw new NotSupportedException("SafeMem blocks must not depend on timers; advance the clock instead.");
}
