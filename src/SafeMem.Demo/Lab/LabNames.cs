namespace SafeMem.Demo.Lab;

/// <summary>Instance names of the blocks the lab creates, so its telemetry reader can tell them from any other.</summary>
internal static class LabNames
{
    public const string Prefix = "lab.";
}
