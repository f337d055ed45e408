using System.Runtime;
using System.Globalization;
using CommunityToolkit.Mvvm.Messaging;
using SafeMem.Events;

namespace SafeMem.Benchmarks.Events;

/// <summary>
/// The <c>events-gc</c> console mode: what holding 100,000 live weak subscriptions costs every full garbage collection,
/// and how many bytes each retains, for <see cref="WeakEventSource{TEventArgs}"/>,
/// <see cref="AsyncWeakEventSource{TEventArgs}"/>, <see cref="WeakEventSubscription"/> and CommunityToolkit's
/// <see cref="WeakReferenceMessenger"/>, against the same subscribers held without any subscription (the baseline)
/// and subscribed to a plain event.
/// </summary>
/// <remarks>
/// Each scenario is built alone (after full collections), then timed over forced, blocking generation-2 collections:
/// the processor time each collection took (<see cref="Environment.CpuUsage"/> deltas: a workstation blocking
/// collection runs on the calling thread, and time the machine's other work takes the core away is not counted, so
/// this is the steady figure on a loaded machine) and its pause (<see cref="GC.GetTotalPauseDuration"/> deltas, wall
/// time, which includes such waits), medians. Retained bytes are the difference of <see cref="GC.GetTotalMemory(bool)"/>
/// with the scenario held against the baseline; memory held by GC handles outside the managed heap is not included.
/// </remarks>
internal static class WeakEventGcStudy
{
    private const int DefaultSubscriptions = 100_000;
    private const int Collections = 31;

    public static void Run(string[] args)
    {
        int subscriptions = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : DefaultSubscriptions;
        Console.WriteLine($"{subscriptions:N0} live subscriptions (one subscriber each), {Collections} forced blocking gen2 collections per scenario, .NET {Environment.Version}, {(GCSettings.IsServerGC ? "server" : "workstation")} GC.");
        Console.WriteLine();
        Console.WriteLine("| scenario | gen2 CPU (ms) | vs no subscriptions (ms) | gen2 pause (ms) | retained bytes per subscription |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: |");

        var subscribers = new BenchmarkSubscriber[subscriptions];
        for (int i = 0; i < subscribers.Length; i++)
        {
            subscribers[i] = new BenchmarkSubscriber();
        }

        (double baselineCpu, double baselinePause, long baselineBytes) = Measure(static _ => new object(), subscribers);
        Report("no subscriptions (the subscribers alone)", baselineCpu, baselinePause, baselineCpu, 0, subscriptions);

        Scenario("plain event (holds its subscribers strongly)", static s =>
        {
            var publisher = new PlainEventPublisher();
            foreach (BenchmarkSubscriber subscriber in s)
            {
                publisher.Changed += subscriber.OnChanged;
            }

            return publisher;
        });
        Scenario("WeakEventSource", static s =>
        {
            var source = new WeakEventSource<BenchmarkEventArgs>("gc");
            foreach (BenchmarkSubscriber subscriber in s)
            {
                source.Add(subscriber.OnChanged);
            }

            return source;
        });
        Scenario("AsyncWeakEventSource", static s =>
        {
            var source = new AsyncWeakEventSource<BenchmarkEventArgs>("gc");
            foreach (BenchmarkSubscriber subscriber in s)
            {
                source.Add(subscriber.OnChangedAsync);
            }

            return source;
        });
        Scenario("WeakEventSubscription (forwarders on a plain event)", static s =>
        {
            var publisher = new PlainEventPublisher();
            var tokens = new IDisposable[s.Length];
            for (int i = 0; i < s.Length; i++)
            {
                tokens[i] = Subscribing.SubscribeWeakly(publisher, s[i]);
            }

            return (publisher, tokens);
        });
        Scenario("WeakReferenceMessenger", static s =>
        {
            var messenger = new WeakReferenceMessenger();
            foreach (BenchmarkSubscriber subscriber in s)
            {
                Subscribing.Register(messenger, subscriber);
            }

            return messenger;
        });

        GC.KeepAlive(subscribers);

        void Scenario(string name, Func<BenchmarkSubscriber[], object> build)
        {
            (double cpu, double pause, long bytes) = Measure(build, subscribers);
            Report(name, cpu, pause, baselineCpu, bytes - baselineBytes, subscriptions);
        }
    }

    private static (double CpuMilliseconds, double PauseMilliseconds, long Bytes) Measure(Func<BenchmarkSubscriber[], object> build, BenchmarkSubscriber[] subscribers)
    {
        FullCollect();
        object held = build(subscribers);

        // Settle: promote everything the build allocated to generation 2 and run any finalizers it queued.
        FullCollect();
        FullCollect();
        long bytes = GC.GetTotalMemory(forceFullCollection: true);
        var pauses = new double[Collections];
        var cpu = new double[Collections];
        for (int i = 0; i < pauses.Length; i++)
        {
            // Let the work a collection queues (the sweeps of weak sources and forwarders, on the thread pool) finish,
            // so the next pause is not stretched by waiting for those threads to reach a safe point.
            Thread.Sleep(20);
            TimeSpan before = GC.GetTotalPauseDuration();
            TimeSpan cpuBefore = Environment.CpuUsage.TotalTime;
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: false);
            cpu[i] = (Environment.CpuUsage.TotalTime - cpuBefore).TotalMilliseconds;
            pauses[i] = (GC.GetTotalPauseDuration() - before).TotalMilliseconds;
        }

        GC.KeepAlive(held);
        Array.Sort(pauses);
        Array.Sort(cpu);
        return (cpu[cpu.Length / 2], pauses[pauses.Length / 2], bytes);
    }

    private static void FullCollect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    private static void Report(string name, double cpu, double pause, double baseline, long bytes, int subscriptions)
        => Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"| {name} | {cpu:F2} | {cpu - baseline:+0.00;-0.00;0.00} | {pause:F2} | {(double)bytes / subscriptions:F0} |"));
}
