namespace SafeMem.Events;

/// <summary>What <see cref="ForwarderSweeper"/> and <see cref="HandlerOwner"/> need of a <see cref="WeakSubscriber{TSubscriber}"/>.</summary>
internal interface IWeakForwarder
{
    /// <summary>Gets a value indicating whether the forwarder has left (or never joined) the source's event, or the source was collected.</summary>
    bool IsDetached { get; }

    /// <summary>Gets a value indicating whether the subscriber was collected.</summary>
    bool IsOrphaned { get; }

    /// <summary>Gets the subscriber, or <see langword="null"/> once collected or detached (without detaching).</summary>
    object? Subscriber { get; }

    /// <summary>Leaves the source's event, swallowing an exception from the remove callback.</summary>
    void DetachQuietly();
}
