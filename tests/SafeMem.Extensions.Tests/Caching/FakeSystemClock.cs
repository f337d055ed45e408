using Microsoft.Extensions.Internal;

namespace SafeMem.Extensions.Tests.Caching;

/// <summary>
/// Lets <see cref="Microsoft.Extensions.Caching.Memory.MemoryCache"/> share a test's <see cref="FakeTimeProvider"/>:
/// MemoryCache takes its clock as an <see cref="ISystemClock"/>, which Microsoft.Extensions.TimeProvider.Testing does
/// not provide.
/// </summary>
public sealed class FakeSystemClock(FakeTimeProvider time) : ISystemClock
{
    public DateTimeOffset UtcNow => time.GetUtcNow();
}
