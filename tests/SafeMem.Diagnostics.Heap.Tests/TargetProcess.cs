using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace SafeMem.Diagnostics.Heap.Tests;

/// <summary>
/// Another .NET process to take snapshots of: this test assembly started with <see cref="Argument"/>. It keeps
/// <see cref="Kept"/> objects of <see cref="TargetItem"/> in a static list, leaves <see cref="Dropped"/> objects of
/// <see cref="TargetGarbage"/> unreachable (allocated after its last collection, so still on the heap), says "ready" and
/// waits until its standard input closes.
/// </summary>
public sealed class TargetProcess : IDisposable
{
    public const string Argument = "--heap-target";
    public const string SelfSnapshotArgument = "--self-snapshot";
    public const int Kept = 500;
    public const int Dropped = 300;

    private static readonly List<TargetItem> s_items = [];
    private static readonly object[] s_named = [new Outer<int>.Inner(), new Outer<string>.Inner<long[]>()];
    private readonly Process _process;

    private TargetProcess(Process process) => _process = process;

    public int Id => _process.Id;

    /// <summary>Runs this assembly with <paramref name="argument"/> to its end and returns its standard output.</summary>
    public static string RunToEnd(string argument)
    {
        var start = new ProcessStartInfo(Host, argument) { RedirectStandardOutput = true, UseShellExecute = false };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {Host}.");
        string output = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(60_000))
        {
            process.Kill();
        }

        return output;
    }

    private static string Host => Path.Combine(AppContext.BaseDirectory, "SafeMem.Diagnostics.Heap.Tests" + (OperatingSystem.IsWindows() ? ".exe" : string.Empty));

    /// <summary>Starts the target and waits until it has planted its objects.</summary>
    public static TargetProcess Start()
    {
        string host = Host;
        var start = new ProcessStartInfo(host, Argument)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {host}.");
        var target = new TargetProcess(process);
        Task<string?> line = process.StandardOutput.ReadLineAsync();
        if (!line.Wait(TimeSpan.FromSeconds(60)) || line.Result != "ready")
        {
            target.Dispose();
            throw new InvalidOperationException($"The target process did not get ready (it said '{(line.IsCompleted ? line.Result : "nothing")}').");
        }

        return target;
    }

    internal static int Run()
    {
        for (int i = 0; i < Kept; i++)
        {
            s_items.Add(new TargetItem(i));
        }

        GC.Collect();
        DropGarbage();
        Console.WriteLine("ready");
        Console.Out.Flush();
        Console.In.ReadToEnd();
        GC.KeepAlive(s_items);
        GC.KeepAlive(s_named);
        return 0;
    }

    public void Dispose()
    {
        try
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(10_000))
            {
                _process.Kill();
            }
        }
        finally
        {
            _process.Dispose();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void DropGarbage()
    {
        for (int i = 0; i < Dropped; i++)
        {
            _ = new TargetGarbage(i);
        }
    }

    public sealed class TargetItem(long id)
    {
        public long Id { get; } = id;
    }

    public sealed class TargetGarbage(long id)
    {
        public long Id { get; } = id;
    }
}
