namespace SafeMem.Diagnostics.Heap.Tests;

/// <summary>
/// The entry point of this test assembly when a cross-process test starts it as a process of its own
/// (<see cref="TargetProcess"/>); under the test runner it is never called.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == TargetProcess.Argument)
        {
            return TargetProcess.Run();
        }

        Console.Error.WriteLine($"This is a test assembly: run it with dotnet test (or with {TargetProcess.Argument}, as the cross-process tests do).");
        return 2;
    }
}
