namespace SafeMem.Cli.Reports;

/// <summary>What <c>safemem snapshot --format json</c> prints: the file written and what it summarizes.</summary>
/// <param name="File">The snapshot file's full path.</param>
/// <param name="FileBytes">Its size.</param>
/// <param name="Pid">The target's process id.</param>
/// <param name="ProcessName">The target's name.</param>
/// <param name="TakenAt">When the snapshot was taken (UTC).</param>
/// <param name="Objects">The live objects it counted.</param>
/// <param name="Bytes">Their bytes.</param>
/// <param name="Types">The number of types.</param>
/// <param name="PauseSeconds">How long the target was suspended while its dump was written.</param>
/// <param name="DumpBytes">The size of the temporary dump (deleted once read).</param>
internal sealed record SnapshotSummary(string File, long FileBytes, int Pid, string ProcessName, DateTimeOffset TakenAt, long Objects, long Bytes, int Types, double PauseSeconds, long DumpBytes);
