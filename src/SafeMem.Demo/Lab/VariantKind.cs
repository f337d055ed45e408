namespace SafeMem.Demo.Lab;

/// <summary>The two sides of a scenario: the classic leak, and the same work through a SafeMem block.</summary>
internal enum VariantKind
{
    Naive,
    SafeMem,
}
