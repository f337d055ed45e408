using System.IO.Compression;
using System.Text;

namespace SafeMem.Diagnostics.Heap.Internal;

/// <summary>
/// The snapshot file: an 8-byte magic and a format version, then a gzip stream of the record, every string written
/// once in a table and referred to by index (type names and path hops repeat across rows and groups).
/// </summary>
/// <remarks>
/// Layout of the compressed part, little-endian, counts and indexes as 7-bit encoded integers:
/// process id, taken-at (UTC ticks), dump write time (ticks), process name (string index); the string table; rows (type name index, method
/// table, count, bytes); groups (type name index, method table, count, bytes, root kind, root index, hop count, hop
/// indexes, target index); inspection notes (string indexes). A reader rejects a newer version instead of guessing.
/// Stateless and thread-safe.
/// </remarks>
internal static class SnapshotFileFormat
{
    private const int Version = 1;
    private static ReadOnlySpan<byte> Magic => "SAFEMEMH"u8;

    public static void Write(HeapSnapshotRecord record, Stream destination)
    {
        destination.Write(Magic);
        destination.WriteByte(Version);
        using var compressed = new GZipStream(destination, CompressionLevel.Optimal, leaveOpen: true);
        using var writer = new BinaryWriter(compressed, Encoding.UTF8, leaveOpen: true);

        var strings = new Dictionary<string, int>(StringComparer.Ordinal);
        var table = new List<string>();
        int Index(string text)
        {
            if (!strings.TryGetValue(text, out int index))
            {
                index = table.Count;
                strings.Add(text, index);
                table.Add(text);
            }

            return index;
        }

        // Index every string first, so that the table precedes everything that refers to it.
        int processName = Index(record.ProcessName);
        foreach (HeapTypeSummary row in record.Types)
        {
            Index(row.TypeName);
        }

        foreach (HeapRetentionGroup group in record.RetentionGroups)
        {
            Index(group.TypeName);
            Index(group.Example.Root);
            Index(group.Example.Target);
            foreach (string hop in group.Example.Hops)
            {
                Index(hop);
            }
        }

        foreach (string note in record.InspectionNotes)
        {
            Index(note);
        }

        writer.Write(record.ProcessId);
        writer.Write(record.TakenAt.UtcTicks);
        writer.Write(record.DumpWriteTime.Ticks);
        writer.Write7BitEncodedInt(processName);
        writer.Write7BitEncodedInt(table.Count);
        foreach (string text in table)
        {
            writer.Write(text);
        }

        writer.Write7BitEncodedInt(record.Types.Count);
        foreach (HeapTypeSummary row in record.Types)
        {
            writer.Write7BitEncodedInt(strings[row.TypeName]);
            writer.Write(row.MethodTable);
            writer.Write7BitEncodedInt64(row.Count);
            writer.Write7BitEncodedInt64(row.Bytes);
        }

        writer.Write7BitEncodedInt(record.RetentionGroups.Count);
        foreach (HeapRetentionGroup group in record.RetentionGroups)
        {
            writer.Write7BitEncodedInt(strings[group.TypeName]);
            writer.Write(group.MethodTable);
            writer.Write7BitEncodedInt64(group.Count);
            writer.Write7BitEncodedInt64(group.Bytes);
            writer.Write7BitEncodedInt((int)group.Example.RootKind);
            writer.Write7BitEncodedInt(strings[group.Example.Root]);
            writer.Write7BitEncodedInt(group.Example.Hops.Count);
            foreach (string hop in group.Example.Hops)
            {
                writer.Write7BitEncodedInt(strings[hop]);
            }

            writer.Write7BitEncodedInt(strings[group.Example.Target]);
        }

        writer.Write7BitEncodedInt(record.InspectionNotes.Count);
        foreach (string note in record.InspectionNotes)
        {
            writer.Write7BitEncodedInt(strings[note]);
        }
    }

    public static HeapSnapshotRecord Read(Stream source)
    {
        Span<byte> header = stackalloc byte[Magic.Length + 1];
        if (source.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) < header.Length || !header[..Magic.Length].SequenceEqual(Magic))
        {
            throw new InvalidDataException("not a SafeMem heap snapshot file");
        }

        if (header[^1] != Version)
        {
            throw new InvalidDataException($"a SafeMem heap snapshot file of format version {header[^1]}; this version of SafeMem reads version {Version}");
        }

        try
        {
            using var compressed = new GZipStream(source, CompressionMode.Decompress, leaveOpen: true);
            using var reader = new BinaryReader(compressed, Encoding.UTF8, leaveOpen: true);
            int processId = reader.ReadInt32();
            var takenAt = new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero);
            var dumpWriteTime = TimeSpan.FromTicks(reader.ReadInt64());
            int processName = reader.Read7BitEncodedInt();
            var table = new string[Count(reader)];
            for (int i = 0; i < table.Length; i++)
            {
                table[i] = reader.ReadString();
            }

            string Text(int index) => (uint)index < (uint)table.Length ? table[index] : throw new InvalidDataException("a string index out of range");

            var rows = new HeapTypeSummary[Count(reader)];
            for (int i = 0; i < rows.Length; i++)
            {
                string name = Text(reader.Read7BitEncodedInt());
                ulong methodTable = reader.ReadUInt64();
                rows[i] = new HeapTypeSummary(name, reader.Read7BitEncodedInt64(), reader.Read7BitEncodedInt64(), methodTable);
            }

            var groups = new HeapRetentionGroup[Count(reader)];
            for (int i = 0; i < groups.Length; i++)
            {
                string name = Text(reader.Read7BitEncodedInt());
                ulong methodTable = reader.ReadUInt64();
                long count = reader.Read7BitEncodedInt64();
                long bytes = reader.Read7BitEncodedInt64();
                var kind = (RetentionRootKind)reader.Read7BitEncodedInt();
                string root = Text(reader.Read7BitEncodedInt());
                var hops = new string[Count(reader)];
                for (int h = 0; h < hops.Length; h++)
                {
                    hops[h] = Text(reader.Read7BitEncodedInt());
                }

                groups[i] = new HeapRetentionGroup(name, methodTable, count, bytes, new RetentionPath(kind, root, hops, Text(reader.Read7BitEncodedInt())));
            }

            var notes = new string[Count(reader)];
            for (int i = 0; i < notes.Length; i++)
            {
                notes[i] = Text(reader.Read7BitEncodedInt());
            }

            return new HeapSnapshotRecord(processId, Text(processName), takenAt, rows, groups, notes, dumpWriteTime);
        }
        catch (Exception exception) when (exception is EndOfStreamException or ArgumentOutOfRangeException or FormatException or IOException and not FileNotFoundException)
        {
            throw new InvalidDataException($"a damaged SafeMem heap snapshot file ({exception.Message})", exception);
        }
    }

    private static int Count(BinaryReader reader)
    {
        int count = reader.Read7BitEncodedInt();
        return count is >= 0 and <= 50_000_000 ? count : throw new InvalidDataException("a count out of range");
    }
}
