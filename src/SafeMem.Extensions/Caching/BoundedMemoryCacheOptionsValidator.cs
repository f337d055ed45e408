using Microsoft.Extensions.Options;

namespace SafeMem.Extensions.Caching;

/// <summary>
/// Validates <see cref="BoundedMemoryCacheOptions"/> as a whole (a bound is set) through the options pattern, so that a
/// registration with <c>ValidateOnStart</c> fails when the host starts rather than when the cache is first resolved.
/// Values that can never be valid are refused earlier, by the options' setters, while the configuration runs.
/// </summary>
internal sealed class BoundedMemoryCacheOptionsValidator : IValidateOptions<BoundedMemoryCacheOptions>
{
    public ValidateOptionsResult Validate(string? name, BoundedMemoryCacheOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.FindProblem() is { } problem
            ? ValidateOptionsResult.Fail(string.IsNullOrEmpty(name) ? problem : $"The SafeMem cache '{name}': {problem}")
            : ValidateOptionsResult.Success;
    }
}
