namespace SafeMem.Analyzers.Ownership;

/// <summary>Where the object an expression reaches comes from, as seen from the class that uses it.</summary>
internal enum ObjectOrigin
{
    /// <summary>Not known (a call's result, an element of a collection): rules that need to know stay silent.</summary>
    Unknown,

    /// <summary>The instance itself (<c>this</c>, <c>base</c>).</summary>
    Self,

    /// <summary>Created by the class: a <c>new</c> in the method, or a field or property only ever assigned with <c>new</c>.</summary>
    Created,

    /// <summary>Given to the class: a parameter, or a field or property assigned from anything but <c>new</c>.</summary>
    Given,

    /// <summary>Reached through a static member: lives as long as the process, or its type's static state.</summary>
    Global,
}
