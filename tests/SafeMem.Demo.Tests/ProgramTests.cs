using System.Diagnostics;

namespace SafeMem.Demo.Tests;

/// <summary>The demo as a person runs it: its own executable, with child processes, exit codes and the report on disk.</summary>
public sealed class ProgramTests
{
    [Fact]
    public async Task UnknownOption_ExitsWithTwoAndSaysWhy()
    {
        (int exitCode, string output, string errors) = await RunDemo("--frobnicate");

        Assert.Equal(2, exitCode);
        Assert.Contains("Unknown option '--frobnicate'", errors);
        Assert.Contains("--help", errors);
        Assert.Empty(output);
    }

    [Theory]
    [InlineData("under-a-file")]
    [InlineData("a-folder")]
    public async Task UnwritableOutput_ExitsWithTwoBeforeTheRun_AndSaysWhy(string kind)
    {
        string folder = Directory.CreateTempSubdirectory("safemem-lab-").FullName;
        try
        {
            // As `--output /etc/passwd/r.html`, which used to fail with an unhandled IOException (exit 134) after the run.
            string file = Path.Combine(folder, "passwd");
            File.WriteAllText(file, "");
            string output = kind == "a-folder" ? folder : Path.Combine(file, "r.html");

            (int exitCode, string printed, string errors) = await RunDemo("--duration", "60", "--scenario", "events", "--output", output);

            Assert.Equal(2, exitCode);
            Assert.StartsWith($"--output '{output}'", errors, StringComparison.Ordinal);
            Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Empty(printed); // no step of the run was printed: nothing ran
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Help_ListsTheOptions()
    {
        (int exitCode, string output, _) = await RunDemo("--help");

        Assert.Equal(0, exitCode);
        Assert.Contains("--duration", output);
        Assert.Contains("--quick", output);
    }

    [Fact]
    public async Task ShortRun_RunsEachVariantInAChildProcess_PrintsPlainLines_AndWritesTheReport()
    {
        string folder = Directory.CreateTempSubdirectory("safemem-lab-").FullName;
        try
        {
            string report = Path.Combine(folder, "report.html");
            (int exitCode, string output, string errors) = await RunDemo("--duration", "2", "--scenario", "events", "--output", report);

            Assert.True(exitCode == 0, $"exit code {exitCode}\n{output}\n{errors}");
            Assert.Contains("events       naive    step   20/20", output);
            Assert.Contains("events       SafeMem  step   20/20", output);
            Assert.Contains("live subscriptions 50", output);
            Assert.Contains($"Report: {report}", output);
            Assert.Contains("No SafeMem variant grew.", output);
            Assert.DoesNotContain("\u001b[", output); // not a terminal: no escape sequences
            string html = await File.ReadAllTextAsync(report);
            Assert.Contains("data-scenario=\"events\"", html);
            Assert.DoesNotContain("data-scenario=\"cache\"", html);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task ShortRun_LeakReportsComeBackFromTheChildProcesses_GroupedByCreationStack()
    {
        string folder = Directory.CreateTempSubdirectory("safemem-lab-").FullName;
        try
        {
            (int exitCode, string output, string errors) = await RunDemo("--duration", "2", "--scenario", "disposal,pooling", "--output", Path.Combine(folder, "report.html"));

            // 20 steps: 3 sessions a step never disposed (2 CSV, 1 PDF), 2 rentals a step never returned.
            Assert.True(exitCode == 0, $"exit code {exitCode}\n{output}\n{errors}");
            Assert.Contains("  naive: LeakTracker reported 60 leaks from 2 creation stacks; one report of each:", output);
            Assert.Contains("    40 like this one (ages", output);
            Assert.Contains("         at SafeMem.Demo.Scenarios.DisposalScenario.NaiveExports.ExportCsv(Int32 request)", output);
            Assert.Contains("         at SafeMem.Demo.Scenarios.DisposalScenario.NaiveExports.ExportPdf(Int32 step, Int32 request)", output);
            Assert.Contains("  SafeMem: LeakTracker reported 40 leaks, all from one creation stack:", output);
            Assert.Contains("        details: rented from object pool 'lab.renderers' and never returned", output);
            Assert.DoesNotContain("SafeMem.Demo.Lab.VariantHost", output);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task MetricsPort_ListsTheEndpoints_AndEachVariantServesItsMeterAsPrometheusNamesIt()
    {
        string folder = Directory.CreateTempSubdirectory("safemem-lab-").FullName;
        int port = FreePortPair();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in new[] { Path.Combine(AppContext.BaseDirectory, "SafeMem.Demo.dll"), "--duration", "60", "--scenario", "events", "--metrics-port", $"{port}", "--output", Path.Combine(folder, "r.html") })
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        try
        {
            Assert.Equal("Prometheus endpoints, one per variant, serving its SafeMem meter while it runs:", await process.StandardOutput.ReadLineAsync());
            Assert.Equal($"  events       naive    http://127.0.0.1:{port}/metrics", await process.StandardOutput.ReadLineAsync());
            Assert.Equal($"  events       safemem  http://127.0.0.1:{port + 1}/metrics", await process.StandardOutput.ReadLineAsync());
            _ = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();

            // The SafeMem variant's child serves once it has started (slow on a loaded machine: poll, within the run).
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            string scrape = "";
            var deadline = DateTime.UtcNow.AddSeconds(50);
            while (!scrape.Contains("safemem_event_subscription_count{", StringComparison.Ordinal) && DateTime.UtcNow < deadline && !process.HasExited)
            {
                try
                {
                    scrape = await http.GetStringAsync(new Uri($"http://127.0.0.1:{port + 1}/metrics"));
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(250);
                }
            }

            // The names the alerting rules (docs/operations/safemem-alerts.yml) are written against.
            Assert.Matches("(?m)^safemem_event_subscription_count\\{[^}]*safemem_name=\"lab\\.prices\"[^}]*\\} [0-9]+", scrape);
            Assert.Matches("(?m)^safemem_event_reclamations_total\\{[^}]*safemem_name=\"lab\\.prices\"", scrape);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Directory.Delete(folder, recursive: true);
        }
    }

    private static int FreePortPair()
    {
        // Two consecutive ports nobody listens on now (a later bind by another process is unlikely within the test).
        for (int attempt = 0; ; attempt++)
        {
            using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            probe.Start();
            int port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            if (port < ushort.MaxValue && IsFree(port) && IsFree(port + 1))
            {
                return port;
            }

            Assert.True(attempt < 20, "no two free consecutive ports");
        }

        static bool IsFree(int port)
        {
            try
            {
                using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
                listener.Start();
                listener.Stop();
                return true;
            }
            catch (System.Net.Sockets.SocketException)
            {
                return false;
            }
        }
    }

    private static async Task<(int ExitCode, string Output, string Errors)> RunDemo(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "SafeMem.Demo.dll"));
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await errors);
    }
}
