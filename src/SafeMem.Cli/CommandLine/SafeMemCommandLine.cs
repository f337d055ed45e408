using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Globalization;
using SafeMem.Cli.Commands;

namespace SafeMem.Cli.CommandLine;

/// <summary>
/// The <c>safemem</c> command line: its commands, their options, help, and one rule for every failure (a single line
/// on stderr starting with <c>safemem:</c>, exit code 2).
/// </summary>
/// <remarks>
/// System.CommandLine parses and prints help; its own parse-error output (the errors, then the whole help, exit code
/// 1) is replaced so that bad input follows the tool's contract: one line and exit code 2, which a script can tell
/// from "something grew" (1). The report goes to <c>output</c> (stdout), progress and failures to <c>error</c>
/// (stderr), so that <c>safemem growth ... --format json &gt; report.json</c> keeps the file clean. Stateless and
/// thread-safe: every run builds its own command tree.
/// </remarks>
internal static class SafeMemCommandLine
{
    private const int DefaultIntervalSeconds = 30;
    private const int DefaultSnapshots = 3;
    private const int DefaultTop = 10;

    /// <summary>Parses <paramref name="args"/> and runs the command they name.</summary>
    /// <returns>The exit code (<see cref="ExitCodes"/>).</returns>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        Command root = Build(output, error);
        ParseResult parsed = root.Parse(args);
        if (parsed.Action is ParseErrorAction)
        {
            // One error is enough to act on; the rest usually follow from it. A word the parser did not know comes
            // first: a misspelt command also leaves "required command was not provided", which would hide the typo.
            ParseError? first = parsed.Errors.FirstOrDefault(e => parsed.UnmatchedTokens.Any(t => e.Message.Contains($"'{t}'", StringComparison.Ordinal)))
                ?? parsed.Errors.FirstOrDefault();
            string message = parsed.CommandResult.Command == root && parsed.Tokens.Count == 0
                ? "name a command: growth, snapshot or diff"
                : first?.Message.TrimEnd('.') ?? "the command line could not be parsed";
            string command = parsed.CommandResult.Command == root ? "safemem" : $"safemem {parsed.CommandResult.Command.Name}";
            await error.WriteLineAsync($"safemem: {message} ('{command} --help' lists the options)");
            return ExitCodes.Failed;
        }

        // Ctrl+C cancels the token the command runs with; the command then deletes the dump it was writing or reading.
        // The timeout is how long System.CommandLine waits for that before it gives up on the command.
        var invocation = new InvocationConfiguration
        {
            Output = output,
            Error = error,
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = TimeSpan.FromSeconds(30),
        };
        try
        {
            return await parsed.InvokeAsync(invocation, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            await error.WriteLineAsync("safemem: cancelled");
            return ExitCodes.Cancelled;
        }
        catch (CommandFailedException exception)
        {
            await error.WriteLineAsync($"safemem: {exception.Message}");
            return ExitCodes.Failed;
        }
    }

    /// <remarks>
    /// A plain command named "safemem" rather than a <see cref="RootCommand"/>, which takes its name from the executable:
    /// run as a tool that is SafeMem.Cli (the assembly cannot be named safemem: its name would clash with SafeMem.dll's
    /// wherever file or assembly names are compared without case).
    /// </remarks>
    private static Command Build(TextWriter output, TextWriter error)
    {
        var root = new Command(
            "safemem",
            "Finds what grows in a running .NET process, and what holds it: heap snapshots of the process (it needs no "
            + "change and nothing installed beside it), the types whose live instance count keeps rising, and a retention "
            + "path of one new instance. Exit code: 0 nothing grew, 1 something grew, 2 bad input or the target cannot be inspected.");
        root.Options.Add(new HelpOption());
        root.Options.Add(new VersionOption());
        root.Subcommands.Add(GrowthCommandLine(output, error));
        root.Subcommands.Add(SnapshotCommandLine(output, error));
        root.Subcommands.Add(DiffCommandLine(output, error));
        return root;
    }

    private static Command GrowthCommandLine(TextWriter output, TextWriter error)
    {
        Option<int> pid = PidOption();
        var interval = new Option<double>("--interval")
        {
            Description = "Seconds between two snapshots (each snapshot also pauses the target while its dump is written).",
            DefaultValueFactory = _ => DefaultIntervalSeconds,
            CustomParser = result => Parse(result, "--interval", "a positive number of seconds", (double value) => value > 0 && !double.IsInfinity(value)),
            HelpName = "seconds",
        };
        var snapshots = new Option<int>("--snapshots")
        {
            Description = "How many snapshots to take; growth must show between every two of them (3 or more tell growth from warm-up better than 2).",
            DefaultValueFactory = _ => DefaultSnapshots,
            CustomParser = result => Parse(result, "--snapshots", "a whole number of at least 2", (int value) => value >= 2),
            HelpName = "n",
        };
        Option<int> top = TopOption();
        Option<OutputFormat?> format = FormatOption();
        Option<DirectoryInfo> dumpDirectory = DumpDirectoryOption();

        var command = new Command(
            "growth",
            "Takes --snapshots heap snapshots of the process, --interval seconds apart, and reports the types whose live "
            + "instance count rose across every interval: count and bytes per snapshot, the rise per minute, and a retention "
            + "path of one new instance. Exit code 0: nothing grew; 1: something grew; 2: bad input or the target cannot be inspected.")
        {
            pid, interval, snapshots, top, format, dumpDirectory,
        };
        command.SetAction((parsed, cancellationToken) => GrowthCommand.RunAsync(
            new GrowthSettings(
                parsed.GetValue(pid),
                TimeSpan.FromSeconds(parsed.GetValue(interval)),
                parsed.GetValue(snapshots),
                parsed.GetValue(top),
                parsed.GetValue(format) ?? OutputFormat.Text,
                DumpDirectory(parsed.GetValue(dumpDirectory))),
            output,
            error,
            cancellationToken));
        return command;
    }

    private static Command SnapshotCommandLine(TextWriter output, TextWriter error)
    {
        Option<int> pid = PidOption();
        var file = new Option<FileInfo>("--output", "-o")
        {
            Description = "The snapshot file to write (replaced if it exists).",
            Required = true,
            HelpName = "file",
        };
        Option<OutputFormat?> format = FormatOption();
        Option<DirectoryInfo> dumpDirectory = DumpDirectoryOption();
        var command = new Command(
            "snapshot",
            "Takes one heap snapshot of the process and writes it to a compact file, to compare later and elsewhere with "
            + "'safemem diff'. " + SnapshotFileContents)
        {
            pid, file, format, dumpDirectory,
        };
        command.SetAction((parsed, cancellationToken) => SnapshotCommand.RunAsync(
            new SnapshotSettings(parsed.GetValue(pid), parsed.GetValue(file)!.FullName, parsed.GetValue(format) ?? OutputFormat.Text, DumpDirectory(parsed.GetValue(dumpDirectory))),
            output,
            error,
            cancellationToken));
        return command;
    }

    private static Command DiffCommandLine(TextWriter output, TextWriter error)
    {
        var files = new Argument<FileInfo[]>("snapshots")
        {
            Description = "Two or more snapshot files written by 'safemem snapshot' of one process, oldest first.",
            Arity = new ArgumentArity(2, 100),
            HelpName = "before> <after",
        };
        Option<int> top = TopOption();
        Option<OutputFormat?> format = FormatOption();
        var command = new Command(
            "diff",
            "Compares snapshot files of one process, taken in that order, as 'growth' compares its snapshots: the types "
            + "whose live instance count rose between every two files, and a retention path of one new instance. Exit code "
            + "0: nothing grew; 1: something grew; 2: bad input or a file that is not a snapshot of the same process. " + SnapshotFileContents)
        {
            files, top, format,
        };
        command.SetAction((parsed, cancellationToken) => DiffCommand.RunAsync(
            new DiffSettings([.. parsed.GetValue(files)!.Select(f => f.FullName)], parsed.GetValue(top), parsed.GetValue(format) ?? OutputFormat.Text),
            output,
            error,
            cancellationToken));
        return command;
    }

    /// <summary>What a snapshot file holds, said in the help of both commands that touch one.</summary>
    internal const string SnapshotFileContents =
        "A snapshot file holds type names, instance counts and sizes, and the references between objects that retention "
        + "paths need (type, field and root names): no field values, no string contents, nothing else of the process's "
        + "data; it can still reveal the program's type and field names.";

    private static Option<int> PidOption() => new("--pid", "-p")
    {
        Description = "The id of the .NET process to inspect (it must run as the same user, or safemem as root).",
        Required = true,
        CustomParser = result => Parse(result, "--pid", "a positive process id", (int value) => value > 0),
        HelpName = "pid",
    };

    private static Option<int> TopOption() => new("--top")
    {
        Description = "The most growing types to report (the first 20 with a retention path of a new instance).",
        DefaultValueFactory = _ => DefaultTop,
        CustomParser = result => Parse(result, "--top", "a whole number of at least 1", (int value) => value >= 1),
        HelpName = "n",
    };

    // Nullable with no default value, so that help shows the default in lower case, as it is typed.
    private static Option<OutputFormat?> FormatOption() => new("--format")
    {
        Description = "text for people, json for scripts and CI. [default: text]",
        CustomParser = result => result.Tokens.Count == 1 && Enum.TryParse(result.Tokens[0].Value, ignoreCase: true, out OutputFormat format) && Enum.IsDefined(format)
            ? format
            : Fail<OutputFormat>(result, "--format", "text or json"),
        HelpName = "text|json",
    };

    private static Option<DirectoryInfo> DumpDirectoryOption() => new("--dump-dir")
    {
        Description = "Where the target writes each temporary dump (deleted once read); it needs about as much free space as the target's memory. Default: the system's temporary directory.",
        HelpName = "directory",
    };

    private static string DumpDirectory(DirectoryInfo? directory) => directory?.FullName ?? Path.GetTempPath();

    /// <summary>
    /// Parses an option's one value with the invariant culture, or records one error naming the option, what it takes
    /// and what it was given. (A validator would run after System.CommandLine's own conversion, whose errors are
    /// several lines long, and would throw on a value that did not convert.)
    /// </summary>
    private static T Parse<T>(ArgumentResult result, string option, string expected, Func<T, bool> isValid)
        where T : struct, ISpanParsable<T>
        => result.Tokens.Count == 1 && T.TryParse(result.Tokens[0].Value, CultureInfo.InvariantCulture, out T value) && isValid(value)
            ? value
            : Fail<T>(result, option, expected);

    private static T Fail<T>(ArgumentResult result, string option, string expected)
        where T : struct
    {
        string given = result.Tokens.Count == 0 ? "nothing" : $"'{string.Join(' ', result.Tokens.Select(t => t.Value))}'";
        result.AddError($"{option} takes {expected}, not {given}");
        return default;
    }
}
