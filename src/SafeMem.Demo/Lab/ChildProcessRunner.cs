using System.Diagnostics;

namespace SafeMem.Demo.Lab;

/// <summary>
/// Runs each variant in a child process of the demo executable, so every variant has a heap of its own: what one
/// scenario leaks cannot show up in another's figures, and the naive variants' garbage never slows a SafeMem one's
/// collections. The children run side by side; they mostly sleep between steps.
/// </summary>
internal sealed class ChildProcessRunner : IVariantRunner
{
    private readonly string _fileName;
    private readonly string[] _prefix;
    private readonly Func<Scenario, VariantKind, int?>? _metricsPort;

    /// <param name="processPath">This process's executable (<see cref="Environment.ProcessPath"/>).</param>
    /// <param name="demoAssembly">The demo's entry assembly; run through <c>dotnet</c> when this process is not its apphost.</param>
    /// <param name="metricsPort">The port each child serves its SafeMem meter on for Prometheus, if any (<c>--metrics-port</c>).</param>
    public ChildProcessRunner(string? processPath, string demoAssembly, Func<Scenario, VariantKind, int?>? metricsPort = null)
    {
        _metricsPort = metricsPort;
        // Under `dotnet run` and as a published app the process is the demo's own apphost; under `dotnet SafeMem.Demo.dll`
        // (and in tests) it is the dotnet host, which needs the assembly path first.
        bool isHost = processPath is null || Path.GetFileNameWithoutExtension(processPath).Equals("dotnet", StringComparison.OrdinalIgnoreCase);
        _fileName = isHost ? processPath ?? "dotnet" : processPath!;
        _prefix = isHost ? [demoAssembly] : [];
    }

    public int MaxParallel => int.MaxValue;

    public async Task<VariantResult> RunAsync(Scenario scenario, VariantKind kind, LabPlan plan, Action<Sample> onSample, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(_fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in _prefix.Concat(ChildProtocol.Arguments(scenario, kind, plan, _metricsPort?.Invoke(scenario, kind))))
        {
            start.ArgumentList.Add(argument);
        }

        var samples = new List<Sample>(plan.Steps + 1);
        string[]? notes = null;
        LeakReportGroup[] leakReports = [];
        string? leakAnalysis = null;
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {_fileName}.");
        Task<string> errors = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            while (await process.StandardOutput.ReadLineAsync(cancellationToken) is { } line)
            {
                ChildProtocol.Message? message = ChildProtocol.Parse(line);
                if (message?.Sample is { } sample)
                {
                    samples.Add(sample);
                    onSample(sample);
                }
                else if (message?.Notes is { } conclusions)
                {
                    notes = conclusions;
                    leakReports = message.LeakReports ?? [];
                    leakAnalysis = message.LeakAnalysis;
                }
            }

            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        string stderr = await errors;
        if (process.ExitCode != 0 || notes is null)
        {
            // The first line of an unhandled exception says what went wrong; the stack trace is in the child's stderr.
            string reason = stderr.Trim().Length > 0 ? stderr.Trim().Split('\n')[0] : "no result";
            reason = reason.Length > 300 ? reason[..300] + "..." : reason;
            return VariantResult.Failed(kind, samples, $"child process exited with code {process.ExitCode}: {reason}");
        }

        return new VariantResult(kind, samples, notes, Error: null) { LeakReports = leakReports, LeakAnalysis = leakAnalysis };
    }
}
