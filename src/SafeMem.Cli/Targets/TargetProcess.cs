using System.Diagnostics;
using System.Globalization;
using Microsoft.Diagnostics.NETCore.Client;

namespace SafeMem.Cli.Targets;

/// <summary>
/// The process an operator pointed <c>safemem</c> at, checked before anything is asked of it: that it runs, is a .NET
/// process, belongs to this user, publishes a diagnostics port this tool can reach, and that the dump it will write
/// fits on the disk. Each failed check is one sentence saying why, for the one line the tool prints with exit code 2.
/// </summary>
/// <remarks>
/// Holds the process id and what was read about it, never a handle to the process (a <see cref="Process"/> would keep
/// its handle, and on Linux a zombie's pid, for nothing). The checks read <c>/proc</c> on Linux, which is where most of
/// the reasons can be told apart; elsewhere only "not running" and "no diagnostics port" are told apart. Thread-safe:
/// immutable after <see cref="Open"/>.
/// </remarks>
internal sealed class TargetProcess
{
    private TargetProcess(int id, string name)
    {
        Id = id;
        Name = name;
    }

    /// <summary>Gets the process id.</summary>
    public int Id { get; }

    /// <summary>Gets the process's name (its executable's, as the system shows it).</summary>
    public string Name { get; }

    /// <summary>Gets "process 1234 (name)", how reports and messages name the target.</summary>
    public string Display => $"process {Id.ToString(CultureInfo.InvariantCulture)} ({Name})";

    /// <summary>Checks that a process can be inspected and that its dump fits in <paramref name="dumpDirectory"/>.</summary>
    /// <exception cref="CommandFailedException">It cannot; the message says why in one sentence.</exception>
    public static TargetProcess Open(int pid, string dumpDirectory)
    {
        string pidText = pid.ToString(CultureInfo.InvariantCulture);
        ProcStatus? status = OperatingSystem.IsLinux() ? ProcStatus.Read(pid) : null;
        string name;
        if (OperatingSystem.IsLinux())
        {
            if (status is null)
            {
                throw new CommandFailedException($"no process with id {pidText} is running");
            }

            if (status.IsZombie)
            {
                throw new CommandFailedException($"process {pidText} ({status.Name}) has exited");
            }

            name = AppName(pid) ?? status.Name;
        }
        else
        {
            name = NameOf(pid) ?? throw new CommandFailedException($"no process with id {pidText} is running");
        }

        var target = new TargetProcess(pid, name);
        if (!HasDiagnosticsPort(pid))
        {
            throw new CommandFailedException(OperatingSystem.IsLinux() ? target.WhyNoPort(status!) : $"{target.Display} publishes no .NET diagnostics port: it is not a .NET process, or it runs with DOTNET_EnableDiagnostics=0");
        }

        if (status is not null && !IsSameUserOrRoot(status.Uid))
        {
            throw new CommandFailedException($"{target.Display} runs as {UserName(status.Uid)}, not as {UserName(EffectiveUid())}: run safemem as the same user (or as root)");
        }

        target.CheckDisk(dumpDirectory, status?.ResidentBytes);
        return target;
    }

    /// <summary>
    /// Whether the process still runs. Asked after an inspection failed, to tell "it exited meanwhile" from any other
    /// failure.
    /// </summary>
    public bool IsRunning()
        => OperatingSystem.IsLinux() ? ProcStatus.Read(Id) is { IsZombie: false } : NameOf(Id) is not null;

    private static bool HasDiagnosticsPort(int pid)
    {
        // The runtime names its socket dotnet-diagnostic-{pid}-{start time}-socket, and a process killed without cleanup
        // leaves it behind. Once the pid is reused (by any program), the socket alone would make that program look like
        // .NET, so on Linux the start time in the name must be this process's (/proc/{pid}/stat). Written here because the
        // diagnostics client's GetPublishedProcesses lists such dead pids too (dotnet/diagnostics#3699).
        if (OperatingSystem.IsLinux() && StartTime(pid) is long start)
        {
            return File.Exists(Path.Combine(Path.GetTempPath(), $"dotnet-diagnostic-{pid.ToString(CultureInfo.InvariantCulture)}-{start.ToString(CultureInfo.InvariantCulture)}-socket"));
        }

        try
        {
            return DiagnosticsClient.GetPublishedProcesses().Contains(pid);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The process's start time in clock ticks since boot (field 22 of /proc/{pid}/stat), or null if unreadable.</summary>
    private static long? StartTime(int pid)
    {
        // The command name (field 2) may hold spaces and parentheses: the fields after it start past its last ')'.
        string? stat = ReadProcFile(pid, "stat");
        int end = stat?.LastIndexOf(')') ?? -1;
        if (end < 0)
        {
            return null;
        }

        string[] fields = stat![(end + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length > 19 && long.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out long start) ? start : null;
    }

    /// <summary>Why a Linux process publishes no diagnostics port that this tool can see.</summary>
    private string WhyNoPort(ProcStatus status)
    {
        string? maps = ReadProcFile(Id, "maps");
        if (maps is null)
        {
            return IsSameUserOrRoot(status.Uid)
                ? $"{Display} cannot be read (its memory map is not readable; a hardened kernel or container may forbid it)"
                : $"{Display} runs as {UserName(status.Uid)}, not as {UserName(EffectiveUid())}: run safemem as the same user (or as root)";
        }

        // A .NET process maps the runtime's shared library; a single-file app links it into its executable, but then it
        // would have published the port. Without either, it is another kind of program (or a NativeAOT app, which
        // has neither a diagnostics port for dumps nor a heap ClrMD can read).
        if (!maps.Contains("libcoreclr.so", StringComparison.Ordinal))
        {
            return $"{Display} is not a .NET process (no .NET runtime is loaded in it)";
        }

        Dictionary<string, string> environment = ReadEnvironment(Id);
        foreach (string variable in (string[])["DOTNET_EnableDiagnostics", "COMPlus_EnableDiagnostics", "DOTNET_EnableDiagnostics_IPC"])
        {
            if (environment.TryGetValue(variable, out string? value) && value == "0")
            {
                return $"{Display} has no diagnostics port: it was started with {variable}=0";
            }
        }

        if (ReadLink($"/proc/{Id}/ns/mnt") is { } theirs && ReadLink("/proc/self/ns/mnt") is { } ours && theirs != ours)
        {
            return $"{Display} has no diagnostics port that safemem can reach: it runs in another mount namespace (a container); run safemem inside it";
        }

        string ourTemp = Path.GetTempPath().TrimEnd('/');
        if (environment.TryGetValue("TMPDIR", out string? theirTemp) && theirTemp.TrimEnd('/') != ourTemp)
        {
            return $"{Display} has no diagnostics port in {ourTemp}: it runs with TMPDIR={theirTemp}; run safemem with the same TMPDIR";
        }

        return $"{Display} is a .NET process but publishes no diagnostics port in {ourTemp} (it may still be starting, or diagnostics are turned off)";
    }

    private void CheckDisk(string dumpDirectory, long? residentBytes)
    {
        if (!Directory.Exists(dumpDirectory))
        {
            throw new CommandFailedException($"the dump directory {dumpDirectory} does not exist");
        }

        if (residentBytes is not { } needed)
        {
            return;
        }

        long free;
        try
        {
            free = new DriveInfo(Path.GetFullPath(dumpDirectory)).AvailableFreeSpace;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return;
        }

        // A dump with the heap holds the process's private memory, which its resident size approximates; leave a margin
        // so that the dump does not fill the disk the target itself writes to.
        long wanted = needed + (needed / 4) + (64L << 20);
        if (free < wanted)
        {
            throw new CommandFailedException(
                $"not enough free disk in {dumpDirectory} for a dump of {Display}: about {Units.Bytes(wanted)} needed, {Units.Bytes(free)} free (--dump-dir chooses another directory)");
        }
    }

    /// <summary>
    /// The application's name from its command line: the assembly when the process is the dotnet host running one
    /// (<c>dotnet MyApp.dll</c>: "dotnet" alone would not tell two services apart), else the executable's file name
    /// (the kernel's own name for a process is cut to 15 characters).
    /// </summary>
    private static string? AppName(int pid)
    {
        string[] arguments = (ReadProcFile(pid, "cmdline") ?? string.Empty).Split('\0', StringSplitOptions.RemoveEmptyEntries);
        if (arguments.Length == 0)
        {
            return null;
        }

        string executable = Path.GetFileName(arguments[0]);
        return executable == "dotnet" && arguments.Skip(1).FirstOrDefault(a => a.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)) is { } assembly
            ? Path.GetFileNameWithoutExtension(assembly)
            : executable.Length > 0 ? executable : null;
    }

    private static string? NameOf(int pid)
    {
        try
        {
            using Process process = Process.GetProcessById(pid);
            return process.HasExited ? null : process.ProcessName;
        }
        catch (Exception exception) when (exception is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    private static bool IsSameUserOrRoot(uint uid)
    {
        uint self = EffectiveUid();
        return self == 0 || self == uid;
    }

    private static uint EffectiveUid() => ProcStatus.Read(Environment.ProcessId)?.Uid ?? 0;

    private static string UserName(uint uid)
    {
        string uidText = uid.ToString(CultureInfo.InvariantCulture);
        try
        {
            foreach (string line in File.ReadLines("/etc/passwd"))
            {
                string[] fields = line.Split(':');
                if (fields.Length > 2 && fields[2] == uidText)
                {
                    return $"user {fields[0]} (uid {uidText})";
                }
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
        }

        return $"uid {uidText}";
    }

    private static Dictionary<string, string> ReadEnvironment(int pid)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string entry in (ReadProcFile(pid, "environ") ?? string.Empty).Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            int equals = entry.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                variables[entry[..equals]] = entry[(equals + 1)..];
            }
        }

        return variables;
    }

    private static string? ReadLink(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    internal static string? ReadProcFile(int pid, string name)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/{name}");
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>What <c>/proc/[pid]/status</c> says about a process.</summary>
    private sealed record ProcStatus(string Name, bool IsZombie, uint Uid, long? ResidentBytes)
    {
        public static ProcStatus? Read(int pid)
        {
            if (ReadProcFile(pid, "status") is not { } text)
            {
                return null;
            }

            string name = "?";
            bool zombie = false;
            uint uid = 0;
            long? resident = null;
            foreach (string line in text.Split('\n'))
            {
                int colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon < 0)
                {
                    continue;
                }

                string value = line[(colon + 1)..].Trim();
                switch (line[..colon])
                {
                    case "Name":
                        name = value;
                        break;
                    case "State":
                        // Z: exited, not yet reaped by its parent; X: dead.
                        zombie = value.StartsWith('Z') || value.StartsWith('X');
                        break;
                    case "Uid":
                        // Real, effective, saved, filesystem: the effective uid is what permissions are checked against.
                        string[] ids = value.Split('\t', StringSplitOptions.RemoveEmptyEntries);
                        uid = uint.Parse(ids.Length > 1 ? ids[1] : ids[0], CultureInfo.InvariantCulture);
                        break;
                    case "VmRSS":
                        resident = long.Parse(value.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture) * 1024;
                        break;
                }
            }

            return new ProcStatus(name, zombie, uid, resident);
        }
    }
}
