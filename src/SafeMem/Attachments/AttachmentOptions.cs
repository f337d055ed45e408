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
    private string _name = "attachment";

    /// <summary>Gets or sets the instance name, reported as the <c>safemem.name</c> tag on every measurement.</summary>
    /// <value>Defaults to <c>"attachment"</c>. Must not be null, empty or white space.</value>
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
