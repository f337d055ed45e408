using Microsoft.Extensions.Internal;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Extensions.Tests.Caching;

/// <summary>Lets <see cref="Microsoft.Extensions.Caching.Memory.MemoryCache"/> (which takes an ISystemClock) share a test's <see cref="FakeTimeProvider"/>.</summary>
public sealed class FakeSystemClock(FakeTimeProvider time) : ISystemClock
{
    public DateTimeOffset UtcNow => time.GetUtcNow();
}
