using SafeMem.Cli.CommandLine;

namespace SafeMem.Cli.Commands;

/// <summary>What <c>safemem snapshot</c> was asked to do.</summary>
/// <param name="Pid">The target process.</param>
/// <param name="OutputFile">The snapshot file to write.</param>
/// <param name="Format">How to write the summary on stdout.</param>
/// <param name="DumpDirectory">Where the target writes its temporary dump.</param>
internal sealed record SnapshotSettings(int Pid, string OutputFile, OutputFormat Format, string DumpDirectory);
