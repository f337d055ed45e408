namespace SafeMem.Analyzers.Ownership;

/// <summary>What a method does with the object a local holds: the facts each rule weighs differently.</summary>
[Flags]
internal enum LocalFate
{
    /// <summary>Only its own members are used.</summary>
    None = 0,

    /// <summary>Returned, or yielded, to the caller.</summary>
    Returned = 1,

    /// <summary>
    /// Stored where it outlives the call: a field, property, array element, out or ref parameter, an object or
    /// collection initializer, an aggregate (tuple, array), or through Interlocked/Volatile.
    /// </summary>
    Stored = 2,

    /// <summary>Passed as an argument to a call or a constructor (which may keep it).</summary>
    PassedToCall = 4,

    /// <summary>Captured by a lambda, local function or method group, which may outlive the call.</summary>
    Captured = 8,

    /// <summary>Disposed in the method: Dispose, DisposeAsync or Close on it, or a using statement.</summary>
    Disposed = 16,

    /// <summary>Declared with <c>using</c> (a using declaration or a using statement's declaration).</summary>
    UsingDeclared = 32,

    /// <summary>Used in a way the model does not know: treated as handed on, so that no rule guesses.</summary>
    Unknown = 64,

    /// <summary>Ways in which ownership leaves the method: whoever receives the object may keep or dispose it.</summary>
    HandedOn = Returned | Stored | PassedToCall | Captured | Unknown,
}
