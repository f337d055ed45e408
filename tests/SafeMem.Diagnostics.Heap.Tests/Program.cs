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

        if (args.Length > 0 && args[0] == TargetProcess.SelfSnapshotArgument)
        {
            // Standard output as a test runner sees it: a line before, the snapshot, a line after.
            Console.WriteLine("before the snapshot");
            using (HeapSnapshot snapshot = HeapSnapshot.Take())
            {
                Console.WriteLine($"{snapshot.Types.Count} types");
            }

            Console.WriteLine("after the snapshot");
            return 0;
        }

        Console.Error.WriteLine($"This is a test assembly: run it with dotnet test (or with {TargetProcess.Argument}, as the cross-process tests do).");
        return 2;
    }
}
