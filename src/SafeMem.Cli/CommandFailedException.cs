namespace SafeMem.Cli;

/// <summary>
/// A command cannot go on: the target cannot be inspected (not running, not .NET, another user, no diagnostics port,
/// not enough disk, exited mid-run) or a file cannot be read or written. The message is one sentence saying why,
/// without a final period.
/// </summary>
/// <remarks>The tool prints the message on one line and exits with code 2.</remarks>
internal sealed class CommandFailedException : Exception
{
    public CommandFailedException(string message)
        : base(message)
    {
    }

    public CommandFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
