// A process for safemem to inspect. Usage: SafeMem.Cli.TestTarget <mode> [--exit-after <seconds>], or
// SafeMem.Cli.TestTarget ballast <megabytes> (a live heap of that size, for docs/production.md's cost figures).
// Prints "ready" once its heap is set up, then runs its mode's step every 100 ms until its standard input closes (the
// test's handle on it), --exit-after elapses, or it is killed.
using SafeMem.Cli.TestTarget;

string mode = args.Length > 0 ? args[0] : "idle";
TimeSpan? exitAfter = args.Length > 2 && args[1] == "--exit-after" ? TimeSpan.FromSeconds(double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture)) : null;
Action step = mode switch
{
    "static-list" => OrderBook.Step,
    "static-event" => Desktop.Step,
    "bounded-cache" => PageCache.Step,
    "idle" => static () => { },
    "ballast" => Ballast.Fill(int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture)),
    _ => throw new ArgumentException($"unknown mode {mode}"),
};

step();
Console.WriteLine("ready");
Console.Out.Flush();

var stop = new CancellationTokenSource();
_ = Task.Run(() =>
{
    Console.In.ReadToEnd();
    stop.Cancel();
});
if (exitAfter is { } after)
{
    stop.CancelAfter(after);
}

using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
try
{
    while (await timer.WaitForNextTickAsync(stop.Token))
    {
        step();
    }
}
catch (OperationCanceledException)
{
}

