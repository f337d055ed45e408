using System.Diagnostics.Metrics;

namespace SafeMem.Attachments;

/// <summary>Settings for an <see cref="Attachment{TOwner, TValue}"/>.</summary>
/// <remarks>
/// Setters validate their own value; the constructor copies what it needs, so changing the options afterwards does not
/// affect an instance already built, and the instance does not keep the options object. Not thread-safe: configure on
/// one thread, then build.
/// </remarks>
public sealed class AttachmentOptions
{
    private string? _name;

    /// <summary>Gets or sets the instance name, reported as the <c>safemem.name</c> tag on every measurement and in statistics.</summary>
    /// <value>
    /// Not empty or white space, or <see langword="null"/> for a generated unique name (<c>attachment-1</c>,
    /// <c>attachment-2</c>, ...), so two unnamed instances never report as one series. Defaults to <see langword="null"/>.
    /// </value>
    /// <exception cref="ArgumentException">The value is empty or white space.</exception>
    public string? Name
    {
        get => _name;
        set
        {
            if (value is not null)
            {
                ArgumentException.ThrowIfNullOrWhiteSpace(value, nameof(Name));
            }

            _name = value;
        }
    }

    /// <summary>Gets or sets the factory of the meter the instruments are created on.</summary>
    /// <value>Defaults to <see langword="null"/>: the process-wide <c>SafeMem</c> meter.</value>
    public IMeterFactory? MeterFactory { get; set; }
}
