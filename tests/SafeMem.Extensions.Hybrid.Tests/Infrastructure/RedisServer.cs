using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace SafeMem.Extensions.Hybrid.Tests.Infrastructure;

/// <summary>
/// A throw-away <c>redis-server</c> on 127.0.0.1, on a free port, with persistence off, owned by one test class (or
/// one benchmark run): it can be killed, frozen and restarted on the same port to play an outage. Each instance is
/// its own process on its own port, so test runs for several target frameworks can run side by side.
/// </summary>
/// <remarks>
/// The binary is <c>SAFEMEM_REDIS_SERVER</c> when set, else <c>redis-server</c> on the PATH. When neither is found
/// the constructor throws with the fix: install it (<c>bash .ci/redis.sh</c> on Debian/Ubuntu), or exclude these
/// tests with <c>--filter "Category!=Redis"</c>. Tests never skip silently: CI must not pass without Redis.
/// </remarks>
public sealed class RedisServer : IDisposable
{
    /// <summary>The trait every test that needs a real Redis carries: <c>--filter "Category!=Redis"</c> excludes them.</summary>
    public const string Category = "Redis";

    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(10);

    private readonly string _executable;
    private readonly string _directory;
    private Process? _process;

    /// <summary>Starts a server on a free port.</summary>
    public RedisServer()
    {
        _executable = FindExecutable();
        _directory = Directory.CreateTempSubdirectory("safemem-redis-").FullName;
        Port = FreePort();
        Start();
    }

    /// <summary>The server's port on 127.0.0.1 (the same across restarts).</summary>
    public int Port { get; }

    /// <summary>The StackExchange.Redis endpoint, <c>127.0.0.1:port</c>.</summary>
    public string EndPoint => $"127.0.0.1:{Port}";

    /// <summary>True while the server process runs (frozen counts as running).</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Starts the server (again) on <see cref="Port"/> and waits until it answers PING.</summary>
    public void Start()
    {
        if (IsRunning)
        {
            return;
        }

        string log = Path.Combine(_directory, "redis.log");
        var start = new ProcessStartInfo(_executable)
        {
            UseShellExecute = false,
            WorkingDirectory = _directory,
        };

        // No persistence (no RDB snapshots, no AOF), loopback only, its log in a file rather than a pipe nobody reads.
        foreach (string argument in new[]
        {
            "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes",
            "--dir", _directory, "--logfile", log,
        })
        {
            start.ArgumentList.Add(argument);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {_executable}.");
        var clock = Stopwatch.StartNew();
        while (!Ping())
        {
            if (_process.HasExited || clock.Elapsed > s_startTimeout)
            {
                string tail = File.Exists(log) ? File.ReadAllText(log) : "(no log)";
                Kill();
                throw new InvalidOperationException($"{_executable} did not start on port {Port} within {s_startTimeout}.\n{tail}");
            }

            Thread.Sleep(20);
        }
    }

    /// <summary>Kills the server (SIGKILL): its connections reset at once, as when a host dies.</summary>
    public void Kill()
    {
        if (_process is { } process)
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit();
            }

            process.Dispose();
            _process = null;
        }
    }

    /// <summary>Freezes the server (SIGSTOP): connections stay open and nothing answers, as in a network partition.</summary>
    public void Freeze() => Signal("STOP");

    /// <summary>Thaws a frozen server (SIGCONT).</summary>
    public void Thaw() => Signal("CONT");

    /// <summary>Kills the server and deletes its folder.</summary>
    public void Dispose()
    {
        // SIGKILL works on a frozen process too.
        Kill();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }

    /// <summary>Sends PING and waits briefly for +PONG; false when nothing (or something else) answers.</summary>
    public bool Ping(TimeSpan? timeout = null)
    {
        try
        {
            using var client = new TcpClient();
            int milliseconds = (int)(timeout ?? TimeSpan.FromMilliseconds(500)).TotalMilliseconds;
            if (!client.ConnectAsync(IPAddress.Loopback, Port).Wait(milliseconds))
            {
                return false;
            }

            client.ReceiveTimeout = milliseconds;
            NetworkStream stream = client.GetStream();
            stream.Write("PING\r\n"u8);
            var buffer = new byte[16];
            int read = stream.Read(buffer);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (Exception ex) when (ex is SocketException or IOException or AggregateException)
        {
            return false;
        }
    }

    private void Signal(string signal)
    {
        Process process = _process ?? throw new InvalidOperationException("The server is not running.");
        using Process kill = Process.Start("kill", ["-" + signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {process.Id} failed with exit code {kill.ExitCode}.");
        }
    }

    private static int FreePort()
    {
        // The port is free when this returns; redis-server binds it a moment later. Another process taking it in
        // between makes Start fail loudly rather than connect the tests to a stranger.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string FindExecutable()
    {
        string? configured = Environment.GetEnvironmentVariable("SAFEMEM_REDIS_SERVER");
        if (!string.IsNullOrEmpty(configured))
        {
            return File.Exists(configured)
                ? configured
                : throw new InvalidOperationException($"SAFEMEM_REDIS_SERVER is set to '{configured}', which does not exist.");
        }

        string name = OperatingSystem.IsWindows() ? "redis-server.exe" : "redis-server";
        foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException(
            "These tests need a real redis-server, and none was found (not on the PATH, SAFEMEM_REDIS_SERVER not set). " +
            "Install it with 'bash .ci/redis.sh' (Debian/Ubuntu; CI runs it), or point SAFEMEM_REDIS_SERVER at a redis-server binary, " +
            "or leave these tests out: dotnet test SafeMem.sln -c Release --filter \"Category!=Redis\".");
    }
}
