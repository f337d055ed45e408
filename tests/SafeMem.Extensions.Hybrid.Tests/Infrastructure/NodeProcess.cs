using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;

namespace SafeMem.Extensions.Hybrid.Tests.Infrastructure;

/// <summary>
/// One HybridCache node in a process of its own (tests/SafeMem.Extensions.Hybrid.TestHost), driven over its
/// stdin/stdout: nodes that share nothing but Redis, as in production. See the host's Program.cs for the commands.
/// </summary>
/// <remarks>
/// The host must have been built for the same configuration and target framework as the caller: the test project
/// references it (without referencing its assembly) so that building the tests builds it. Disposing asks the process to
/// exit and kills it if it has not within 5 s. Not thread-safe for <see cref="Dispose"/>; commands may be sent
/// concurrently.
/// </remarks>
public sealed class NodeProcess : IDisposable
{
    private static readonly TimeSpan s_replyTimeout = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly ConcurrentDictionary<string, Channel<string>> _replies = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _errors = new();
    private readonly object _input = new();
    private int _nextId;

    private NodeProcess(Process process, string name)
    {
        _process = process;
        Name = name;
    }

    public string Name { get; }

    /// <summary>Starts a node and waits until it is ready (Redis answers, and with the backplane, it hears its probe).</summary>
    /// <param name="redisEndPoint">The redis-server, <c>127.0.0.1:port</c>.</param>
    /// <param name="name">The node's name (its factory returns <c>factory:name</c>).</param>
    /// <param name="arguments">More of the host's arguments (<c>--backplane</c>, <c>--probe-ms 200</c>, ...).</param>
    public static async Task<NodeProcess> StartAsync(string redisEndPoint, string name, params string[] arguments)
    {
        var start = new ProcessStartInfo(HostExecutable())
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in new[] { "--redis", redisEndPoint, "--name", name }.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        Process process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the test host.");
        var node = new NodeProcess(process, name);
        Channel<string> ready = node._replies.GetOrAdd("-", static _ => Channel.CreateUnbounded<string>());
        _ = Task.Run(node.ReadRepliesAsync);
        _ = Task.Run(node.ReadErrorsAsync);
        try
        {
            string line = await ready.Reader.ReadAsync().AsTask().WaitAsync(s_replyTimeout);
            if (!line.StartsWith("ready", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"Node {name} did not start: {line}");
            }
        }
        catch (Exception exception) when (exception is TimeoutException or ChannelClosedException)
        {
            node.Dispose();
            throw new InvalidOperationException($"Node {name} did not start: {string.Join(" | ", node._errors)}", exception);
        }

        return node;
    }

    /// <summary>Sends a command; returns its first reply line (without the id). Further lines are read with <see cref="NextReplyAsync"/>.</summary>
    public async Task<(string Id, string Reply)> SendAsync(string command)
    {
        string id = Interlocked.Increment(ref _nextId).ToString(CultureInfo.InvariantCulture);
        Channel<string> replies = _replies.GetOrAdd(id, static _ => Channel.CreateUnbounded<string>());
        lock (_input)
        {
            _process.StandardInput.WriteLine(id + " " + command);
            _process.StandardInput.Flush();
        }

        return (id, await NextReplyAsync(id));
    }

    /// <summary>The next reply line of command <paramref name="id"/>.</summary>
    public async Task<string> NextReplyAsync(string id)
    {
        try
        {
            return await _replies[id].Reader.ReadAsync().AsTask().WaitAsync(s_replyTimeout);
        }
        catch (Exception exception) when (exception is TimeoutException or ChannelClosedException)
        {
            throw new InvalidOperationException($"Node {Name} gave no reply to command {id}: {string.Join(" | ", _errors)}", exception);
        }
    }

    /// <summary>Reads <paramref name="key"/>: its value, and how long the read took inside the node.</summary>
    public async Task<(string Value, TimeSpan Elapsed)> GetAsync(string key)
    {
        string[] reply = Expect(await SendAsync("get " + key), "ok");
        return (reply[1], TimeSpan.FromMicroseconds(long.Parse(reply[2], CultureInfo.InvariantCulture)));
    }

    /// <summary>Sets or removes (<paramref name="value"/> null) <paramref name="key"/>: whether it threw, when it returned (a timestamp), how long it took.</summary>
    public async Task<(bool Failed, long DoneAt, TimeSpan Elapsed)> ChangeAsync(string key, string? value)
    {
        (_, string reply) = await SendAsync(value is null ? "remove " + key : $"set {key} {value}");
        string[] words = reply.Split(' ');
        bool failed = words[0] == "error";
        int at = failed ? 2 : 1;
        return (failed, long.Parse(words[at], CultureInfo.InvariantCulture), TimeSpan.FromMicroseconds(long.Parse(words[at + 1], CultureInfo.InvariantCulture)));
    }

    /// <summary>Starts watching <paramref name="key"/> until it reads <paramref name="expected"/>; completes with the timestamp it did, or null after <paramref name="limit"/>.</summary>
    public async Task<Task<long?>> WatchAsync(string key, string expected, TimeSpan limit)
    {
        (string id, string reply) = await SendAsync($"watch {key} {expected} {(int)limit.TotalMilliseconds}");
        Expect((id, reply), "started");
        return SeenAsync(id);

        async Task<long?> SeenAsync(string id)
        {
            string[] words = (await NextReplyAsync(id)).Split(' ');
            return words[0] == "seen" ? long.Parse(words[1], CultureInfo.InvariantCulture) : null;
        }
    }

    /// <summary>The backplane's figures, as the host prints them (connected, pending, reconnections, ...).</summary>
    public async Task<IReadOnlyDictionary<string, string>> StatsAsync()
        => Expect(await SendAsync("stats"), "ok").Skip(1)
            .Select(pair => pair.Split('='))
            .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.Ordinal);

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                lock (_input)
                {
                    _process.StandardInput.WriteLine("0 exit");
                    _process.StandardInput.Flush();
                }

                if (!_process.WaitForExit(5_000))
                {
                    _process.Kill(entireProcessTree: true);
                    _process.WaitForExit();
                }
            }
        }
        catch (Exception exception) when (exception is IOException or InvalidOperationException)
        {
            // Exited already (its stdin closed with it).
        }

        _process.Dispose();
    }

    private static string[] Expect((string Id, string Reply) reply, string first)
    {
        string[] words = reply.Reply.Split(' ');
        return words[0] == first ? words : throw new InvalidOperationException($"Expected '{first}', got '{reply.Reply}'.");
    }

    private async Task ReadRepliesAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync() is { } line)
        {
            int space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space > 0)
            {
                _replies.GetOrAdd(line[..space], static _ => Channel.CreateUnbounded<string>()).Writer.TryWrite(line[(space + 1)..]);
            }
        }

        foreach (Channel<string> channel in _replies.Values)
        {
            channel.Writer.TryComplete();
        }
    }

    private async Task ReadErrorsAsync()
    {
        while (await _process.StandardError.ReadLineAsync() is { } line)
        {
            _errors.Enqueue(line);
        }
    }

    /// <summary>
    /// The host built for the caller's configuration and target framework: the caller's output folder relative to its
    /// project folder (bin/Release/net10.0/...), applied to the host's project folder, searched for the executable
    /// (a self-contained net8.0 build sits in a runtime-identifier folder below).
    /// </summary>
    private static string HostExecutable()
    {
        string configuration =
#if DEBUG
            "Debug";
#else
            "Release";
#endif
        string framework = "net" + Environment.Version.ToString(2);
        string folder = Path.Combine(SafeMem.Tests.Infrastructure.RepositoryPaths.Root, "tests", "SafeMem.Extensions.Hybrid.TestHost", "bin", configuration, framework);
        string name = OperatingSystem.IsWindows() ? "SafeMem.Extensions.Hybrid.TestHost.exe" : "SafeMem.Extensions.Hybrid.TestHost";
        string? found = Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder, name, SearchOption.AllDirectories).OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault()
            : null;
        return found ?? throw new InvalidOperationException(
            $"The test host was not found under {folder}: build tests/SafeMem.Extensions.Hybrid.TestHost ({configuration}, {framework}).");
    }
}
