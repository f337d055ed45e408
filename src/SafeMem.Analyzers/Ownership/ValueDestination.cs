namespace SafeMem.Analyzers.Ownership;

/// <summary>Where a newly produced value goes.</summary>
internal enum ValueDestination
{
    /// <summary>Into a local variable (declared or assigned).</summary>
    Local,

    /// <summary>Nowhere: an expression statement or a discard.</summary>
    Discarded,

    /// <summary>Anywhere else (a field, an argument, a return, an expression): handed on.</summary>
    Elsewhere,
}
