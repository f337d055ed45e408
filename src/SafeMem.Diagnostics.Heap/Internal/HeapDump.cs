using System.Runtime.InteropServices;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Runtime;

namespace SafeMem.Diagnostics.Heap.Internal;

/// <summary>
/// A dump of a .NET process, opened with ClrMD: of this process or of another one, written through the target's
/// diagnostics server (the runtime launches <c>createdump</c>, which suspends every thread of the target while it copies
/// the heap), or an existing dump file.
/// </summary>
/// <remarks>
/// A dump this class writes never outlives it: it is opened with <see cref="FileOptions.DeleteOnClose"/> and, on Unix,
/// unlinked at once (the open handle keeps it readable), and every failure path deletes it too. An existing file given
/// to <see cref="Open"/> is only read. The DAC used is the one beside the target's runtime (for this process, the
/// running runtime), which matches the dump by construction, so the version check ClrMD would make against module
/// metadata a heap dump may lack is skipped; only when no such file exists here does ClrMD look for one itself. Not
/// thread-safe; callers that dump serialize through <see cref="InspectionGate"/>.
/// </remarks>
internal sealed class HeapDump : IDisposable
{
    private readonly FileStream _file;
    private readonly string _name;
    private DataTarget? _target;
    private ClrRuntime? _runtime;

    private HeapDump(FileStream file, string name, DataTarget target, ClrRuntime runtime, int processId, bool isCurrentProcess, TimeSpan? writeDuration = null)
    {
        _file = file;
        _name = name;
        _target = target;
        _runtime = runtime;
        ProcessId = processId;
        IsCurrentProcess = isCurrentProcess;
        Bytes = file.Length;
        WriteDuration = writeDuration;
    }

    /// <summary>Gets the size of the dump file in bytes (the disk space it holds until disposal).</summary>
    public long Bytes { get; }

    /// <summary>Gets how long the runtime took to write the dump (the process is suspended meanwhile); null for a file opened.</summary>
    public TimeSpan? WriteDuration { get; }

    /// <summary>Gets the id of the process the dump is of (0 when a dump file does not say).</summary>
    public int ProcessId { get; }

    /// <summary>
    /// Gets whether the dump is of this very process, written by this object: then a method table address in it is a
    /// live type handle here, and reflection can name its types.
    /// </summary>
    public bool IsCurrentProcess { get; }

    /// <summary>Gets when the dump began to be written (about when the heap was frozen); <see langword="null"/> for a file given to <see cref="Open"/>.</summary>
    public DateTimeOffset? WriteStartedAt { get; private init; }

    /// <summary>Gets ClrMD's view of the runtime in the dump, reopening it after <see cref="ReleaseReader"/>.</summary>
    public ClrRuntime Runtime
    {
        get
        {
            if (_runtime is null)
            {
                _file.Position = 0;
                _target = DataTarget.LoadDump(_name, _file, leaveOpen: true);
                _runtime = CreateRuntime(_target, IsCurrentProcess);
            }

            return _runtime;
        }
    }

    public ClrHeap Heap => Runtime.Heap;

    /// <summary>Gets whether ClrMD's reader is open (its caches alive).</summary>
    public bool IsReaderOpen => _runtime is not null;

    /// <summary>
    /// Drops ClrMD's reader and its caches (type and method tables, memory pages: megabytes of managed objects that a
    /// later snapshot of this process would count as growth) and keeps only the open file.
    /// </summary>
    public void ReleaseReader()
    {
        _runtime?.Dispose();
        _target?.Dispose();
        _runtime = null;
        _target = null;
    }

    /// <summary>Writes a dump of process <paramref name="processId"/> into <paramref name="directory"/> and opens it.</summary>
    /// <exception cref="HeapSnapshotUnavailableException">The dump could not be written or read; the reason says why.</exception>
    public static HeapDump Create(int processId, string? directory)
    {
        bool current = processId == Environment.ProcessId;
        if (!current)
        {
            CheckProcessExists(processId);
        }

        // Two failures are moments, not conditions, so the dump is taken again: a dump catches every thread wherever
        // it is, and if one was in the middle of a garbage collection (a parallel test calling GC.Collect, a background
        // GC) the heap in that dump cannot be walked; and createdump fails outright when a thread exits between being
        // listed and being suspended ("ptrace(ATTACH, tid) FAILED No such process").
        const int Attempts = 4;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return CreateOnce(processId, current, directory);
            }
            catch (TransientDumpException) when (attempt < Attempts)
            {
                Thread.Sleep(50 * attempt);
            }
            catch (TransientDumpException last)
            {
                throw new HeapSnapshotUnavailableException($"{last.Message}, in each of {Attempts} attempts", last.InnerException ?? last);
            }
        }
    }

    /// <summary>Opens an existing dump file for reading (it is never deleted).</summary>
    /// <exception cref="HeapSnapshotUnavailableException">The file could not be read as a dump of a .NET process.</exception>
    public static HeapDump Open(string path)
    {
        FileStream? file = null;
        DataTarget? target = null;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, FileOptions.RandomAccess);
            target = DataTarget.LoadDump(path, file, leaveOpen: true);
            ClrRuntime runtime = CreateRuntime(target, current: false);
            int processId = target.DataReader.ProcessId;
            return new HeapDump(file, path, target, runtime, processId, isCurrentProcess: false);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            target?.Dispose();
            file?.Dispose();
            if (exception is HeapSnapshotUnavailableException)
            {
                throw;
            }

            throw new HeapSnapshotUnavailableException($"the file '{path}' could not be read as a .NET dump ({exception.GetType().Name}: {exception.Message})", exception);
        }
    }

    private static HeapDump CreateOnce(int processId, bool current, string? directory)
    {
        string folder = directory ?? Path.GetTempPath();
        string path = Path.Combine(folder, $"safemem-{processId}-{Guid.NewGuid():N}.dmp");
        FileStream? file = null;
        DataTarget? target = null;
        try
        {
            if (!Directory.Exists(folder))
            {
                throw new HeapSnapshotUnavailableException($"the dump directory '{folder}' does not exist");
            }

            DateTimeOffset startedAt = DateTimeOffset.UtcNow;
            long writing = System.Diagnostics.Stopwatch.GetTimestamp();
            WriteDump(processId, current, path);
            TimeSpan written = System.Diagnostics.Stopwatch.GetElapsedTime(writing);
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 4096, FileOptions.DeleteOnClose | FileOptions.RandomAccess);
            if (!OperatingSystem.IsWindows())
            {
                // Unlink now: a crash from here on cannot leave the file behind (the handle keeps it readable).
                File.Delete(path);
            }

            target = DataTarget.LoadDump(path, file, leaveOpen: true);
            ClrRuntime runtime = CreateRuntime(target, current);
            if (!runtime.Heap.CanWalkHeap)
            {
                runtime.Dispose();
                throw new TransientDumpException("ClrMD reports that the heap in the dump cannot be walked (a garbage collection was in progress)", null);
            }

            return new HeapDump(file, path, target, runtime, processId, current, written) { WriteStartedAt = startedAt };
        }
        catch (Exception exception)
        {
            target?.Dispose();
            file?.Dispose();
            TryDelete(path);
            if (exception is HeapSnapshotUnavailableException or TransientDumpException)
            {
                throw;
            }

            throw new HeapSnapshotUnavailableException($"reading the dump with ClrMD failed ({exception.GetType().Name}: {exception.Message})", exception);
        }
    }

    public void Dispose()
    {
        ReleaseReader();
        _file.Dispose();
    }

    private static void CheckProcessExists(int processId)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(processId);
        }
        catch (ArgumentException exception)
        {
            throw new HeapSnapshotUnavailableException($"there is no process with id {processId}", exception);
        }
    }

    private static void WriteDump(int processId, bool current, string path)
    {
        // A dump of this process: createdump, its child, would print its status lines on our standard output.
        CreateDumpOutputFilter? filter = current ? CreateDumpOutputFilter.Start() : null;
        try
        {
            new DiagnosticsClient(processId).WriteDump(DumpType.WithHeap, path, logDumpGeneration: false);
        }
        catch (ServerErrorException exception)
        {
            // The server answered but createdump failed: most often a thread that exited while being suspended.
            throw new TransientDumpException($"createdump failed: {exception.Message.Trim()}", exception);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            string hint = current && Environment.GetEnvironmentVariable("DOTNET_EnableDiagnostics") == "0"
                ? " (DOTNET_EnableDiagnostics=0 turns the diagnostics server off)"
                : string.Empty;
            string who = current ? "the process could not dump itself" : $"process {processId} could not be dumped";
            throw new HeapSnapshotUnavailableException(
                $"{who} through its diagnostics server{hint}: {exception.GetType().Name}: {exception.Message}",
                exception);
        }
        finally
        {
            filter?.Dispose();
        }

        if (!File.Exists(path))
        {
            throw new HeapSnapshotUnavailableException("the diagnostics server reported success but wrote no dump file");
        }
    }

    private static ClrRuntime CreateRuntime(DataTarget target, bool current)
    {
        if (target.ClrVersions.Length == 0)
        {
            throw new HeapSnapshotUnavailableException("ClrMD found no .NET runtime in the dump");
        }

        ClrInfo clr = target.ClrVersions[0];

        // The DAC beside the target's runtime: for this process the running runtime's directory; for another, the
        // directory its runtime module was loaded from (the same machine, so the same files).
        string? runtimeDirectory = current ? RuntimeEnvironment.GetRuntimeDirectory() : Path.GetDirectoryName(clr.ModuleInfo.FileName);
        string? dac = runtimeDirectory is null ? null : Path.Combine(runtimeDirectory, DacFileName());
        return dac is not null && File.Exists(dac) ? clr.CreateRuntime(dac, ignoreMismatch: true) : clr.CreateRuntime();
    }

    private static string DacFileName()
        => OperatingSystem.IsWindows() ? "mscordaccore.dll"
            : OperatingSystem.IsMacOS() ? "libmscordaccore.dylib"
            : "libmscordaccore.so";

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort on a path that already failed; DeleteOnClose covers the opened case.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private sealed class TransientDumpException(string message, Exception? innerException) : Exception(message, innerException);
}
