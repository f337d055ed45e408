using System.Runtime.InteropServices;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Runtime;

namespace SafeMem.Testing.Internal;

/// <summary>
/// A dump of the current process, opened with ClrMD. The process asks its own diagnostics server to write the dump
/// (the runtime launches <c>createdump</c>, which suspends every thread while it copies the heap), then reads it.
/// </summary>
/// <remarks>
/// The dump file never outlives this object: it is opened with <see cref="FileOptions.DeleteOnClose"/> and, on Unix,
/// unlinked at once (the open handle keeps it readable), and every failure path deletes it too. The DAC used is the one
/// beside the running runtime, which matches the dump by construction (the process reads its own dump), so the version
/// check ClrMD would make against module metadata the dump may lack is skipped. Not thread-safe; callers serialize
/// through <see cref="InspectionGate"/>, since two concurrent dumps would each suspend the process for nothing.
/// </remarks>
internal sealed class HeapDump : IDisposable
{
    private readonly FileStream _file;
    private readonly string _name;
    private DataTarget? _target;
    private ClrRuntime? _runtime;

    private HeapDump(FileStream file, string name, DataTarget target, ClrRuntime runtime)
    {
        _file = file;
        _name = name;
        _target = target;
        _runtime = runtime;
    }

    /// <summary>Gets ClrMD's view of the runtime in the dump, reopening it after <see cref="ReleaseReader"/>.</summary>
    public ClrRuntime Runtime
    {
        get
        {
            if (_runtime is null)
            {
                _file.Position = 0;
                _target = DataTarget.LoadDump(_name, _file, leaveOpen: true);
                _runtime = CreateRuntime(_target);
            }

            return _runtime;
        }
    }

    public ClrHeap Heap => Runtime.Heap;

    /// <summary>
    /// Drops ClrMD's reader and its caches (type and method tables, memory pages: megabytes of managed objects that a
    /// later snapshot would count as growth) and keeps only the open, already deleted file.
    /// </summary>
    public void ReleaseReader()
    {
        _runtime?.Dispose();
        _target?.Dispose();
        _runtime = null;
        _target = null;
    }

    /// <summary>Writes a dump of this process into <paramref name="directory"/> and opens it.</summary>
    /// <exception cref="HeapDumpUnavailableException">The dump could not be written or read; the message says why.</exception>
    public static HeapDump Create(string? directory)
    {
        // Two failures are moments, not conditions, so the dump is taken again: a dump catches every thread wherever
        // it is, and if one was in the middle of a garbage collection (a parallel test calling GC.Collect, a background
        // GC) the heap in that dump cannot be walked; and createdump fails outright when a thread exits between being
        // listed and being suspended ("ptrace(ATTACH, tid) FAILED No such process").
        const int Attempts = 4;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return CreateOnce(directory);
            }
            catch (TransientDumpException) when (attempt < Attempts)
            {
                Thread.Sleep(50 * attempt);
            }
            catch (TransientDumpException last)
            {
                throw new HeapDumpUnavailableException($"{last.Message}, in each of {Attempts} attempts", last.InnerException ?? last);
            }
        }
    }

    private static HeapDump CreateOnce(string? directory)
    {
        string folder = directory ?? Path.GetTempPath();
        string path = Path.Combine(folder, $"safemem-{Environment.ProcessId}-{Guid.NewGuid():N}.dmp");
        FileStream? file = null;
        DataTarget? target = null;
        try
        {
            if (!Directory.Exists(folder))
            {
                throw new HeapDumpUnavailableException($"the dump directory '{folder}' does not exist");
            }

            WriteDump(path);
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 4096, FileOptions.DeleteOnClose | FileOptions.RandomAccess);
            if (!OperatingSystem.IsWindows())
            {
                // Unlink now: a crash from here on cannot leave the file behind (the handle keeps it readable).
                File.Delete(path);
            }

            target = DataTarget.LoadDump(path, file, leaveOpen: true);
            ClrRuntime runtime = CreateRuntime(target);
            if (!runtime.Heap.CanWalkHeap)
            {
                runtime.Dispose();
                throw new TransientDumpException("ClrMD reports that the heap in the dump cannot be walked (a garbage collection was in progress)", null);
            }

            return new HeapDump(file, path, target, runtime);
        }
        catch (Exception exception)
        {
            target?.Dispose();
            file?.Dispose();
            TryDelete(path);
            if (exception is HeapDumpUnavailableException or TransientDumpException)
            {
                throw;
            }

            throw new HeapDumpUnavailableException($"reading the dump with ClrMD failed ({exception.GetType().Name}: {exception.Message})", exception);
        }
    }

    public void Dispose()
    {
        ReleaseReader();
        _file.Dispose();
    }

    private static void WriteDump(string path)
    {
        try
        {
            new DiagnosticsClient(Environment.ProcessId).WriteDump(DumpType.WithHeap, path, logDumpGeneration: false);
        }
        catch (ServerErrorException exception)
        {
            // The server answered but createdump failed: most often a thread that exited while being suspended.
            throw new TransientDumpException($"createdump failed: {exception.Message.Trim()}", exception);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            string hint = Environment.GetEnvironmentVariable("DOTNET_EnableDiagnostics") == "0"
                ? " (DOTNET_EnableDiagnostics=0 turns the diagnostics server off)"
                : string.Empty;
            throw new HeapDumpUnavailableException(
                $"the process could not dump itself through its diagnostics server{hint}: {exception.GetType().Name}: {exception.Message}",
                exception);
        }

        if (!File.Exists(path))
        {
            throw new HeapDumpUnavailableException("the diagnostics server reported success but wrote no dump file");
        }
    }

    private static ClrRuntime CreateRuntime(DataTarget target)
    {
        if (target.ClrVersions.Length == 0)
        {
            throw new HeapDumpUnavailableException("ClrMD found no .NET runtime in the dump");
        }

        ClrInfo clr = target.ClrVersions[0];
        string dac = Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), DacFileName());
        return File.Exists(dac) ? clr.CreateRuntime(dac, ignoreMismatch: true) : clr.CreateRuntime();
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
