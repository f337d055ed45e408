using System.Diagnostics.Metrics;
using SafeMem.Telemetry;

namespace SafeMem.Extensions.Backplane;

/// <summary>
/// The figures of one <see cref="RedisBackplane"/>. The instrument registry holds this object weakly, and only the
/// backplane holds it strongly: the two live readings (connected, pending) reach back into the backplane, which roots
/// nothing, so a backplane that is no longer referenced is collected and stops reporting.
/// </summary>
/// <remarks>Messages arrive on several threads at once, so every count is a contention-free striped counter.</remarks>
internal sealed class BackplaneCounters
{
    public readonly StripedCounter Sent = new();
    public readonly StripedCounter Failed = new();
    public readonly StripedCounter Dropped = new();
    public readonly StripedCounter Received = new();
    public readonly StripedCounter Malformed = new();
    public readonly StripedCounter Reconnections = new();
    public readonly StripedCounter RemovedByInvalidation = new();
    public readonly StripedCounter RemovedByRecovery = new();
    public readonly StripedCounter RemovedWhileDisconnected = new();
    private readonly Func<bool> _isConnected;
    private readonly Func<int> _pendingChanges;

    public BackplaneCounters(string name, Func<bool> isConnected, Func<int> pendingChanges)
    {
        Name = name;
        _isConnected = isConnected;
        _pendingChanges = pendingChanges;
    }

    public string Name { get; }

    public bool IsConnected => _isConnected();

    public int PendingChanges => _pendingChanges();

    public static InstrumentRegistry<BackplaneCounters> Registry(Meter meter)
        => InstrumentRegistry<BackplaneCounters>.For(meter, static registry =>
        {
            registry.CreateObservableCounter(
                InstrumentNames.For("backplane", "messages"),
                InstrumentUnits.Messages,
                "Messages of a Redis backplane, by outcome: sent, failed (not sent; kept to be sent again on recovery), dropped (neither sent nor kept), received (from another node, applied) or malformed (not understood, ignored).",
                new InstrumentRegistry<BackplaneCounters>.Reading(static c => c.Sent.Sum(), new(SafeMemTags.BackplaneMessageOutcome, "sent")),
                new InstrumentRegistry<BackplaneCounters>.Reading(static c => c.Failed.Sum(), new(SafeMemTags.BackplaneMessageOutcome, "failed")),
                new InstrumentRegistry<BackplaneCounters>.Reading(static c => c.Dropped.Sum(), new(SafeMemTags.BackplaneMessageOutcome, "dropped")),
                new InstrumentRegistry<BackplaneCounters>.Reading(static c => c.Received.Sum(), new(SafeMemTags.BackplaneMessageOutcome, "received")),
                new InstrumentRegistry<BackplaneCounters>.Reading(static c => c.Malformed.Sum(), new(SafeMemTags.BackplaneMessageOutcome, "malformed")));
            registry.CreateObservableCounter(
                InstrumentNames.For("backplane", "reconnections"),
                InstrumentUnits.Reconnections,
                "Times a node heard the other nodes again after a time it could not (its local cache was then dropped).",
                static c => c.Reconnections.Sum());
            registry.CreateObservableCounter(
                InstrumentNames.For("backplane", "removals"),
                InstrumentUnits.Entries,
                "Local-cache entries a Redis backplane removed, by reason: invalidated (another node changed them), recovery (the node heard the others again) or disconnected (it could not hear them for longer than it may trust its local cache).",
                new InstrumentRegistry<BackplaneCounters>.Reading(static c => c.RemovedByInvalidation.Sum(), new(SafeMemTags.BackplaneRemovalReason, "invalidated")),
                new InstrumentRegistry<BackplaneCounters>.Reading(static c => c.RemovedByRecovery.Sum(), new(SafeMemTags.BackplaneRemovalReason, "recovery")),
                new InstrumentRegistry<BackplaneCounters>.Reading(static c => c.RemovedWhileDisconnected.Sum(), new(SafeMemTags.BackplaneRemovalReason, "disconnected")));
            registry.CreateObservableUpDownCounter(
                InstrumentNames.For("backplane", "connection.count"),
                InstrumentUnits.Connections,
                "1 while a node hears the other nodes through its Redis backplane (its probe comes back in time), else 0.",
                static c => c.IsConnected ? 1 : 0);
            registry.CreateObservableUpDownCounter(
                InstrumentNames.For("backplane", "pending_change.count"),
                InstrumentUnits.Changes,
                "Changes a node could not announce yet: messages waiting to be sent, and changes to repeat on recovery.",
                static c => c.PendingChanges);
        });

    public RedisBackplaneStatistics Snapshot() => new()
    {
        Name = Name,
        IsConnected = IsConnected,
        Sent = Sent.Sum(),
        Failed = Failed.Sum(),
        Dropped = Dropped.Sum(),
        Received = Received.Sum(),
        Malformed = Malformed.Sum(),
        Reconnections = Reconnections.Sum(),
        RemovedByInvalidation = RemovedByInvalidation.Sum(),
        RemovedByRecovery = RemovedByRecovery.Sum(),
        RemovedWhileDisconnected = RemovedWhileDisconnected.Sum(),
        PendingChanges = PendingChanges,
    };
}
