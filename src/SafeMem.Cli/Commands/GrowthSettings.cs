using SafeMem.Cli.CommandLine;

namespace SafeMem.Cli.Commands;

/// <summary>What <c>safemem growth</c> was asked to do.</summary>
/// <param name="Pid">The target process.</param>
/// <param name="Interval">The time from one snapshot's start to the next one's.</param>
/// <param name="Snapshots">How many snapshots (at least 2).</param>
/// <param name="Top">The most types to report.</param>
/// <param name="Format">How to write the report.</param>
/// <param name="DumpDirectory">Where the target writes its temporary dumps.</param>
internal sealed record GrowthSettings(int Pid, TimeSpan Interval, int Snapshots, int Top, OutputFormat Format, string DumpDirectory);
