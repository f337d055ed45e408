using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;

namespace SafeMem.Benchmarks.Caching;

/// <summary>
/// Reads the access traces of <c>shared/traces</c> (formats in the README there): gzip text traces of the LIRS paper
/// (one integer key a line; blank lines and <c>*</c> checkpoint lines skipped) and xz traces of big-endian 32-bit
/// keys. .NET has no xz decoder, so xz traces are piped through the <c>xz</c> tool when it is installed.
/// </summary>
internal static class CacheTraces
{
    /// <summary>The default trace folder: <c>&lt;repository&gt;/../shared/traces</c>.</summary>
    public static string DefaultDirectory()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "SafeMem.sln")))
            {
                return Path.GetFullPath(Path.Combine(directory.FullName, "..", "shared", "traces"));
            }
        }

        return Path.GetFullPath(Path.Combine("..", "shared", "traces"));
    }

    /// <summary>Loads every trace in <paramref name="directory"/>, by name; <paramref name="notes"/> says what was skipped and why.</summary>
    public static SortedDictionary<string, int[]> LoadAll(string directory, List<string> notes)
    {
        var traces = new SortedDictionary<string, int[]>(StringComparer.Ordinal);
        foreach (string path in Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal))
        {
            string file = Path.GetFileName(path);
            if (file.EndsWith(".trace.gz", StringComparison.Ordinal))
            {
                traces[file[..^".trace.gz".Length]] = ReadGzipText(path);
            }
            else if (file.EndsWith(".trace.xz", StringComparison.Ordinal))
            {
                int[]? keys = TryReadXzBinary(path, out string? why);
                if (keys is null)
                {
                    notes.Add($"{file} skipped: {why}");
                }
                else
                {
                    traces[file[..^".trace.xz".Length]] = keys;
                }
            }
        }

        return traces;
    }

    private static int[] ReadGzipText(string path)
    {
        using FileStream file = File.OpenRead(path);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);
        var keys = new List<int>();
        while (reader.ReadLine() is { } line)
        {
            ReadOnlySpan<char> text = line.AsSpan().Trim();
            if (text.IsEmpty || text[0] == '*')
            {
                continue;
            }

            keys.Add(int.Parse(text, System.Globalization.CultureInfo.InvariantCulture));
        }

        return [.. keys];
    }

    private static int[]? TryReadXzBinary(string path, out string? why)
    {
        Process process;
        try
        {
            var start = new ProcessStartInfo("xz", ["-dc", path])
            {
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            process = Process.Start(start) ?? throw new InvalidOperationException("xz did not start");
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            why = $"no xz decoder in .NET and the `xz` tool is not available ({ex.Message})";
            return null;
        }

        using (process)
        {
            using var buffer = new MemoryStream();
            process.StandardOutput.BaseStream.CopyTo(buffer);
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                why = $"`xz -dc` exited with code {process.ExitCode}";
                return null;
            }

            ReadOnlySpan<byte> bytes = buffer.GetBuffer().AsSpan(0, (int)buffer.Length);
            var keys = new int[bytes.Length / sizeof(int)];
            for (int i = 0; i < keys.Length; i++)
            {
                keys[i] = BinaryPrimitives.ReadInt32BigEndian(bytes.Slice(i * sizeof(int)));
            }

            why = null;
            return keys;
        }
    }
}
