using SafeMem.Cli.CommandLine;

namespace SafeMem.Cli.Commands;

/// <summary>What <c>safemem diff</c> was asked to do.</summary>
/// <param name="Files">Two or more snapshot files of one process, oldest first.</param>
/// <param name="Top">The most types to report.</param>
/// <param name="Format">How to write the report.</param>
internal sealed record DiffSettings(IReadOnlyList<string> Files, int Top, OutputFormat Format);
