namespace SafeMem.Diagnostics.Heap;

/// <summary>The kind of GC root a <see cref="RetentionPath"/> starts at.</summary>
/// <remarks>Plain data; thread-safe.</remarks>
public enum RetentionRootKind
{
    /// <summary>A root ClrMD reported without a kind this library names.</summary>
    Other = 0,

    /// <summary>A static field (the root names its declaring type and the field).</summary>
    StaticField = 1,

    /// <summary>A GC handle that keeps its target alive: strong, pinned, async-pinned, sized or ref-counted (the root names the kind).</summary>
    GCHandle = 2,

    /// <summary>A local variable or temporary on a thread's stack (the root names the method and thread where the runtime allows).</summary>
    StackLocal = 3,

    /// <summary>The finalizer queue: the object, or one that refers to it, waits for its finalizer to run.</summary>
    FinalizerQueue = 4,
}
