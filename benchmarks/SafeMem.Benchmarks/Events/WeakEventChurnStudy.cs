using System.Diagnostics;
using System.Globalization;
using CommunityToolkit.Mvvm.Messaging;
using SafeMem.Events;

namespace SafeMem.Benchmarks.Events;

/// <summary>
/// The <c>events-churn</c> console mode: subscribing and unsubscribing timed over many repetitions, reported as the
/// minimum, first quartile and median per operation, for a plain event, <see cref="WeakEventSource{TEventArgs}"/>,
/// <see cref="AsyncWeakEventSource{TEventArgs}"/>, <see cref="WeakEventSubscription"/> and CommunityToolkit's
/// <see cref="WeakReferenceMessenger"/>.
/// </summary>
/// <remarks>
/// A cross-check of the BenchmarkDotNet rows that stays readable on a loaded machine: a repetition that other work
/// interrupted only moves the upper quantiles, so the minimum and first quartile compare the designs. Two workloads: a
/// subscribe + unsubscribe pair on a source with ten other subscribers (a view model that appears and goes), and
/// 10,000 subscribers added to a fresh source then removed oldest first.
/// </remarks>
internal static class WeakEventChurnStudy
{
    private const int Pairs = 1_000;
    private const int Bulk = 10_000;

    public static void Run(string[] args)
    {
        int repetitions = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200;
        Console.WriteLine($"{repetitions} repetitions per row, .NET {Environment.Version}; nanoseconds per operation.");
        Console.WriteLine();
        Pair(repetitions);
        Console.WriteLine();
        AddThenRemove(Math.Max(5, repetitions / 10));
    }

    private static void Pair(int repetitions)
    {
        var keepAlive = new List<BenchmarkSubscriber>();
        var plain = new PlainEventPublisher();
        var forwarded = new PlainEventPublisher();
        var weak = new WeakEventSource<BenchmarkEventArgs>("churn");
        var async = new AsyncWeakEventSource<BenchmarkEventArgs>("churn");
        var messenger = new WeakReferenceMessenger();
        foreach (BenchmarkSubscriber other in BenchmarkSubscriber.Create(10, keepAlive))
        {
            plain.Changed += other.OnChanged;
            weak.Add(other.OnChanged);
            async.Add(other.OnChangedAsync);
            Subscribing.SubscribeWeakly(forwarded, other);
            Subscribing.Register(messenger, other);
        }

        var subscriber = new BenchmarkSubscriber();
        EventHandler<BenchmarkEventArgs> handler = subscriber.OnChanged;
        Func<object?, BenchmarkEventArgs, Task> asyncHandler = subscriber.OnChangedAsync;
        Console.WriteLine($"Subscribe + unsubscribe pair, source with 10 other subscribers ({Pairs:N0} pairs per repetition):");
        Console.WriteLine();
        Header();
        Row("PlainEvent", repetitions, Pairs, () =>
        {
            for (int i = 0; i < Pairs; i++)
            {
                plain.Changed += handler;
                plain.Changed -= handler;
            }
        });
        Row("WeakEventSource", repetitions, Pairs, () =>
        {
            for (int i = 0; i < Pairs; i++)
            {
                weak.Add(handler);
                weak.Remove(handler);
            }
        });
        Row("AsyncWeakEventSource", repetitions, Pairs, () =>
        {
            for (int i = 0; i < Pairs; i++)
            {
                async.Add(asyncHandler);
                async.Remove(asyncHandler);
            }
        });
        Row("WeakEventSubscription", repetitions, Pairs, () =>
        {
            for (int i = 0; i < Pairs; i++)
            {
                Subscribing.SubscribeWeakly(forwarded, subscriber).Dispose();
            }
        });
        Row("Messenger", repetitions, Pairs, () =>
        {
            for (int i = 0; i < Pairs; i++)
            {
                Subscribing.Register(messenger, subscriber);
                messenger.Unregister<BenchmarkEventArgs>(subscriber);
            }
        });
        GC.KeepAlive(keepAlive);
    }

    private static void AddThenRemove(int repetitions)
    {
        var keepAlive = new List<BenchmarkSubscriber>();
        BenchmarkSubscriber[] subscribers = BenchmarkSubscriber.Create(Bulk, keepAlive);
        EventHandler<BenchmarkEventArgs>[] handlers = Array.ConvertAll(subscribers, static s => new EventHandler<BenchmarkEventArgs>(s.OnChanged));
        Console.WriteLine($"{Bulk:N0} subscribers added to a fresh source, then removed oldest first (per add + remove):");
        Console.WriteLine();
        Header();
        Row("WeakEventSource", repetitions, Bulk, () =>
        {
            // The row measures a fresh source per repetition: created per call on purpose.
#pragma warning disable SM1004
            var source = new WeakEventSource<BenchmarkEventArgs>("churn");
#pragma warning restore SM1004
            foreach (EventHandler<BenchmarkEventArgs> handler in handlers)
            {
                source.Add(handler);
            }

            foreach (EventHandler<BenchmarkEventArgs> handler in handlers)
            {
                source.Remove(handler);
            }
        });
        Row("Messenger", repetitions, Bulk, () =>
        {
            var messenger = new WeakReferenceMessenger();
            foreach (BenchmarkSubscriber subscriber in subscribers)
            {
                Subscribing.Register(messenger, subscriber);
            }

            foreach (BenchmarkSubscriber subscriber in subscribers)
            {
                messenger.Unregister<BenchmarkEventArgs>(subscriber);
            }
        });
        GC.KeepAlive(keepAlive);
    }

    private static void Header()
    {
        Console.WriteLine("| method | min | p25 | median |");
        Console.WriteLine("| --- | ---: | ---: | ---: |");
    }

    private static void Row(string name, int repetitions, int operations, Action body)
    {
        // Warm up past tiered compilation (the code is recompiled with optimizations after its first calls).
        long warmup = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(warmup) < TimeSpan.FromMilliseconds(500))
        {
            body();
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        var times = new double[repetitions];
        for (int i = 0; i < times.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            body();
            times[i] = Stopwatch.GetElapsedTime(start).TotalNanoseconds / operations;
        }

        Array.Sort(times);
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"| {name} | {times[0]:F0} | {times[times.Length / 4]:F0} | {times[times.Length / 2]:F0} |"));
    }
}
