namespace SafeMem.Cli;

/// <summary>What <c>safemem</c>'s exit code means, for scripts and CI.</summary>
internal static class ExitCodes
{
    /// <summary>The command ran and found no growth (for <c>snapshot</c>: the file was written).</summary>
    public const int Clean = 0;

    /// <summary>The command ran and found types that grew across every interval.</summary>
    public const int Grew = 1;

    /// <summary>Bad input, or the target (or a snapshot file) could not be read; one line on stderr says why.</summary>
    public const int Failed = 2;

    /// <summary>Stopped by Ctrl+C (SIGINT) before a report; the convention of shells (128 + the signal's number).</summary>
    public const int Cancelled = 130;
}
