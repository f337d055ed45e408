namespace SafeMem.Cli.Targets;

/// <summary>The target process cannot be inspected; the message is one sentence saying why, without a final period.</summary>
/// <remarks>The tool prints the message on one line and exits with code 2.</remarks>
internal sealed class TargetUnavailableException : Exception
{
    public TargetUnavailableException(string message)
        : base(message)
    {
    }

    public TargetUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
