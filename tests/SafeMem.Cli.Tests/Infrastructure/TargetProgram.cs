using System.Diagnostics;
using System.Globalization;

namespace SafeMem.Cli.Tests.Infrastructure;

/// <summary>
/// A running SafeMem.Cli.TestTarget process in one of its modes, for safemem to inspect. Disposal kills it.
/// </summary>
/// <remarks>
/// The target runs on the tests' own runtime: the net10.0 build through the dotnet host, the self-contained net8.0
/// build through its apphost, which carries .NET 8. Its standard input stays open until disposal (closing it ends
/// the target), so a target never outlives a test run even when a kill is missed.
/// </remarks>
public sealed class TargetProgram : IDisposable
{
    private const string Name = "SafeMem.Cli.TestTarget";
    private readonly Process _process;

    private TargetProgram(Process process) => _process = process;

    /// <summary>Gets the target's process id.</summary>
    public int Id => _process.Id;

    /// <summary>Gets whether the target has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Starts the target in a mode and waits until it says it is ready.</summary>
    /// <param name="mode">static-list, static-event, bounded-cache or idle.</param>
    /// <param name="exitAfter">When given, the target exits by itself after this long.</param>
    /// <param name="environment">Extra environment variables for the target.</param>
    public static async Task<TargetProgram> StartAsync(string mode, TimeSpan? exitAfter = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        string folder = AppContext.BaseDirectory;
        bool selfContained = File.ReadAllText(Path.Combine(folder, Name + ".runtimeconfig.json")).Contains("includedFrameworks", StringComparison.Ordinal);
        var start = new ProcessStartInfo(selfContained ? Path.Combine(folder, Name) : "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (!selfContained)
        {
            start.ArgumentList.Add(Path.Combine(folder, Name + ".dll"));
        }

        start.ArgumentList.Add(mode);
        if (exitAfter is { } after)
        {
            start.ArgumentList.Add("--exit-after");
            start.ArgumentList.Add(after.TotalSeconds.ToString(CultureInfo.InvariantCulture));
        }

        foreach ((string variable, string value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[variable] = value;
        }

        var target = new TargetProgram(Process.Start(start) ?? throw new InvalidOperationException($"could not start {Name}"));
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            string? line = await target._process.StandardOutput.ReadLineAsync(timeout.Token);
            if (line != "ready")
            {
                string errors = target._process.HasExited ? await target._process.StandardError.ReadToEndAsync(timeout.Token) : string.Empty;
                throw new InvalidOperationException($"{Name} {mode} did not get ready: '{line}' {errors}");
            }

            return target;
        }
        catch
        {
            target.Dispose();
            throw;
        }
    }

    /// <summary>Waits for the target to exit by itself.</summary>
    public Task WaitForExitAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        return _process.WaitForExitAsync(cancellation.Token);
    }

    /// <summary>Gets whether the target has mapped a file whose name contains <paramref name="fragment"/> (Linux).</summary>
    public bool HasMapped(string fragment)
        => File.ReadAllText($"/proc/{Id.ToString(CultureInfo.InvariantCulture)}/maps").Contains(fragment, StringComparison.Ordinal);

    /// <inheritdoc/>
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Exited between the check and the kill.
        }

        _process.Dispose();
    }
}
