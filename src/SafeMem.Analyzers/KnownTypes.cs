using Microsoft.CodeAnalysis;

namespace SafeMem.Analyzers;

/// <summary>The types the rules recognise, resolved once per compilation by metadata name (null when absent).</summary>
internal sealed class KnownTypes
{
    private KnownTypes(Compilation compilation)
    {
        CancellationToken = compilation.GetTypeByMetadataName("System.Threading.CancellationToken");
        CancellationTokenSource = compilation.GetTypeByMetadataName("System.Threading.CancellationTokenSource");
        ThreadingTimer = compilation.GetTypeByMetadataName("System.Threading.Timer");
        TimersTimer = compilation.GetTypeByMetadataName("System.Timers.Timer");
        PeriodicTimer = compilation.GetTypeByMetadataName("System.Threading.PeriodicTimer");
        ObjectPool = compilation.GetTypeByMetadataName("Microsoft.Extensions.ObjectPool.ObjectPool`1");
        ConditionalWeakTable = compilation.GetTypeByMetadataName("System.Runtime.CompilerServices.ConditionalWeakTable`2");
        BoundedCache = compilation.GetTypeByMetadataName("SafeMem.Caching.BoundedCache`2");
        WeakEventSubscription = compilation.GetTypeByMetadataName("SafeMem.Events.WeakEventSubscription");
        Interlocked = compilation.GetTypeByMetadataName("System.Threading.Interlocked");
        Volatile = compilation.GetTypeByMetadataName("System.Threading.Volatile");
        INotifyPropertyChanged = compilation.GetTypeByMetadataName("System.ComponentModel.INotifyPropertyChanged");
        EventHandlerOfT = compilation.GetTypeByMetadataName("System.EventHandler`1");

        var blocks = new List<INamedTypeSymbol>();
        foreach (var name in SafeMemBlockNames)
        {
            if (compilation.GetTypeByMetadataName(name) is { } block)
            {
                blocks.Add(block);
            }
        }

        SafeMemBlocks = blocks;
    }

    /// <summary>
    /// The blocks SM1004 watches, by metadata name so that a block added to SafeMem later (LeakWatcher) is covered as
    /// soon as the referenced SafeMem has it.
    /// </summary>
    internal static readonly string[] SafeMemBlockNames =
    [
        "SafeMem.Caching.BoundedCache`2",
        "SafeMem.Events.WeakEventSource`1",
        "SafeMem.Events.AsyncWeakEventSource`1",
        "SafeMem.Attachments.Attachment`2",
        "SafeMem.Registries.WeakRegistry`1",
        "SafeMem.Registries.WeakKeyedRegistry`2",
        "SafeMem.Registries.WeakValueRegistry`2",
        "SafeMem.Disposal.LeakTracker",
        "SafeMem.Pooling.TrackedObjectPool`1",
        "SafeMem.Diagnostics.LeakWatcher",
    ];

    internal INamedTypeSymbol? CancellationToken { get; }

    internal INamedTypeSymbol? CancellationTokenSource { get; }

    internal INamedTypeSymbol? ThreadingTimer { get; }

    internal INamedTypeSymbol? TimersTimer { get; }

    internal INamedTypeSymbol? PeriodicTimer { get; }

    internal INamedTypeSymbol? ObjectPool { get; }

    internal INamedTypeSymbol? ConditionalWeakTable { get; }

    internal INamedTypeSymbol? BoundedCache { get; }

    internal INamedTypeSymbol? WeakEventSubscription { get; }

    internal INamedTypeSymbol? Interlocked { get; }

    internal INamedTypeSymbol? Volatile { get; }

    internal INamedTypeSymbol? INotifyPropertyChanged { get; }

    internal INamedTypeSymbol? EventHandlerOfT { get; }

    internal IReadOnlyList<INamedTypeSymbol> SafeMemBlocks { get; }

    internal static KnownTypes Get(Compilation compilation) => new(compilation);

    internal bool IsSafeMemBlock(ITypeSymbol? type)
    {
        if (type is not INamedTypeSymbol named)
        {
            return false;
        }

        var definition = named.OriginalDefinition;
        foreach (var block in SafeMemBlocks)
        {
            if (SymbolEqualityComparer.Default.Equals(definition, block))
            {
                return true;
            }
        }

        return false;
    }

    internal bool IsTimer(ITypeSymbol? type)
        => type is not null
           && (Is(type, ThreadingTimer) || Is(type, TimersTimer) || Is(type, PeriodicTimer));

    internal bool IsObjectPool(ITypeSymbol? type)
    {
        for (var current = type as INamedTypeSymbol; current is not null; current = current.BaseType)
        {
            if (Is(current.OriginalDefinition, ObjectPool))
            {
                return true;
            }
        }

        return false;
    }

    internal bool IsCancellationTokenSource(ITypeSymbol? type)
    {
        for (var current = type; current is not null; current = current.BaseType)
        {
            if (Is(current, CancellationTokenSource))
            {
                return true;
            }
        }

        return false;
    }

    internal static bool Is(ITypeSymbol? type, ITypeSymbol? known)
        => known is not null && SymbolEqualityComparer.Default.Equals(type, known);
}
