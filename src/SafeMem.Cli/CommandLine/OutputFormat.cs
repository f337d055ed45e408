namespace SafeMem.Cli.CommandLine;

/// <summary>How a report is written on stdout (<c>--format</c>).</summary>
internal enum OutputFormat
{
    /// <summary>Aligned tables and retention paths, for people.</summary>
    Text,

    /// <summary>One JSON document, for scripts and CI.</summary>
    Json,
}
