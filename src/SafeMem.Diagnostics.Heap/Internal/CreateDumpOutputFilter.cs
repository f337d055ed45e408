using System.Runtime.InteropServices;
using System.Text;

namespace SafeMem.Diagnostics.Heap.Internal;

/// <summary>
/// Keeps the runtime's <c>createdump</c> status lines ("[createdump] Gathering state for process ...") out of this
/// process's standard output while it dumps itself: a failing test would otherwise print them beside its explanation.
/// </summary>
/// <remarks>
/// The runtime starts <c>createdump</c> as a child that inherits the process's standard output, and offers no switch to
/// quiet it, so for the length of the dump file descriptor 1 is pointed at a pipe; a thread copies everything that
/// comes through it back to the real standard output except <c>createdump</c>'s lines, so other threads' output in
/// that second is kept. Unix only (on Windows the dump is written in-process, without such lines). Every failure to set
/// it up leaves standard output as it was. Not thread-safe: callers hold <see cref="InspectionGate"/>.
/// </remarks>
internal sealed partial class CreateDumpOutputFilter : IDisposable
{
    private const int StandardOutput = 1;
    private readonly int _saved;
    private readonly int _readEnd;
    private readonly Thread _copier;
    private bool _disposed;

    private CreateDumpOutputFilter(int saved, int readEnd)
    {
        _saved = saved;
        _readEnd = readEnd;
        _copier = new Thread(Copy) { IsBackground = true, Name = "SafeMem createdump output filter" };
        _copier.Start();
    }

    /// <summary>Starts filtering, or returns <see langword="null"/> where it cannot (Windows, no standard output, a failed call).</summary>
    public static CreateDumpOutputFilter? Start()
    {
        if (OperatingSystem.IsWindows())
        {
            return null;
        }

        try
        {
            Console.Out.Flush();
            int saved = Dup(StandardOutput);
            if (saved < 0)
            {
                return null;
            }

            int[] ends = new int[2];
            if (Pipe(ends) != 0)
            {
                Close(saved);
                return null;
            }

            if (Dup2(ends[1], StandardOutput) < 0)
            {
                Close(ends[0]);
                Close(ends[1]);
                Close(saved);
                return null;
            }

            // Descriptor 1 is now the pipe's only write end besides the ones createdump will inherit.
            Close(ends[1]);
            return new CreateDumpOutputFilter(saved, ends[0]);
        }
        catch (Exception exception) when (exception is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Console.Out.Flush();

        // Restoring descriptor 1 closes this process's write end of the pipe; createdump has exited, so the copier
        // reads the end of the stream, writes what is left and stops.
        Dup2(_saved, StandardOutput);
        _copier.Join(TimeSpan.FromSeconds(5));
        Close(_readEnd);
        Close(_saved);
    }

    private unsafe void Copy()
    {
        byte[] buffer = new byte[4096];
        var line = new List<byte>(256);
        while (true)
        {
            nint read;
            fixed (byte* start = buffer)
            {
                read = Read(_readEnd, start, buffer.Length);
            }

            if (read <= 0)
            {
                break;
            }

            for (int i = 0; i < read; i++)
            {
                line.Add(buffer[i]);
                if (buffer[i] == (byte)'\n')
                {
                    Forward(line);
                    line.Clear();
                }
            }
        }

        Forward(line);
    }

    private unsafe void Forward(List<byte> line)
    {
        if (line.Count == 0 || Encoding.UTF8.GetString(line.ToArray()).StartsWith("[createdump]", StringComparison.Ordinal))
        {
            return;
        }

        byte[] bytes = [.. line];
        fixed (byte* start = bytes)
        {
            for (int written = 0; written < bytes.Length;)
            {
                nint count = Write(_saved, start + written, bytes.Length - written);
                if (count <= 0)
                {
                    return;
                }

                written += (int)count;
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "dup", SetLastError = true)]
    private static partial int Dup(int fd);

    [LibraryImport("libc", EntryPoint = "dup2", SetLastError = true)]
    private static partial int Dup2(int oldFd, int newFd);

    [LibraryImport("libc", EntryPoint = "pipe", SetLastError = true)]
    private static partial int Pipe([Out] int[] fds);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static unsafe partial nint Read(int fd, byte* buffer, nint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static unsafe partial nint Write(int fd, byte* buffer, nint count);
}
