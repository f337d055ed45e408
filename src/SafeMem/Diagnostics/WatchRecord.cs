namespace SafeMem.Diagnostics;

/// <summary>One pending watched object, stored by value in a <see cref="WatchStripe"/>'s ring: no allocation per watch.</summary>
/// <remarks>
/// The type is held strongly while the record is pending; that never extends the object's life (the object holds its
/// type anyway) and ends when the record is judged. A type of a collectible assembly is thus kept until one sweep after
/// its last watched object died.
/// </remarks>
internal struct WatchRecord
{
    public nint Handle;
    public int Hash;
    public long Stamp;
    public long WatchedAt;
    public Type Type;
    public string Description;
}
