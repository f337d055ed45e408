using System.Diagnostics.Metrics;

namespace SafeMem.Registries;

/// <summary>
/// Settings for a <see cref="WeakRegistry{T}"/>, <see cref="WeakKeyedRegistry{TKey, TValue}"/> or
/// <see cref="WeakValueRegistry{TKey, TValue}"/>.
/// </summary>
/// <remarks>
/// Setters validate their own value; the constructor copies what it needs, so changing the options afterwards does not
/// affect an instance already built, and the instance does not keep the options object. Not thread-safe: configure on
/// one thread, then build.
/// </remarks>
public sealed class RegistryOptions
{
    private string _name = "registry";

    /// <summary>Gets or sets the instance name, reported as the <c>safemem.name</c> tag on every measurement.</summary>
    /// <value>
    /// Defaults to <c>"registry"</c>. Must not be null, empty or white space. The three registry types share one
    /// instrument set, so give each registry its own name.
    /// </value>
    /// <exception cref="ArgumentException">The value is null, empty or white space.</exception>
    public string Name
    {
        get => _name;
        set
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(value);
            _name = value;
        }
    }

    /// <summary>Gets or sets the factory of the meter the instruments are created on.</summary>
    /// <value>Defaults to <see langword="null"/>: the process-wide <c>SafeMem</c> meter.</value>
    public IMeterFactory? MeterFactory { get; set; }
}
