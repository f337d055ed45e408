using System.Text.Json.Serialization;

namespace SafeMem.Cli.Reports;

/// <summary>
/// The JSON shapes of the reports, generated at build time: camelCase names, indented, enums as strings, so that a
/// script reads the same document every run.
/// </summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true)]
[JsonSerializable(typeof(SnapshotSummary))]
[JsonSerializable(typeof(GrowthJson))]
internal sealed partial class ReportJsonContext : JsonSerializerContext;
