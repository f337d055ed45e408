using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace SafeMem.Analyzers.Ownership;

/// <summary>
/// "Every path out" over Roslyn's control-flow graph: whether each normal path from a point in a method to its exit
/// passes an operation that gives an object back (a pool's Return). Normal paths are returns, fall-through, and
/// break/continue/goto, with the finally blocks they run; exceptions a call might throw are not paths (a throw
/// statement ends a path without leaking, since the exception, not the method, decides what happens next).
/// </summary>
internal static class PathsOut
{
    /// <summary>
    /// Whether every normal path from the operation whose syntax is <paramref name="start"/> to the method's exit passes
    /// an operation for which <paramref name="givesBack"/> holds, before <paramref name="start"/> runs again.
    /// </summary>
    /// <returns>True when every path gives it back, false when one does not, null when the graph could not tell.</returns>
    internal static bool? EveryPathGivesBack(ControlFlowGraph graph, SyntaxNode start, Func<IOperation, bool> givesBack)
    {
        BasicBlock? startBlock = null;
        var startIndex = -1;
        foreach (var block in graph.Blocks)
        {
            for (var i = 0; i < block.Operations.Length && startBlock is null; i++)
            {
                if (Contains(block.Operations[i], start))
                {
                    startBlock = block;
                    startIndex = i;
                }
            }
        }

        if (startBlock is null)
        {
            return null;
        }

        var finallyGivesBack = new Dictionary<ControlFlowRegion, bool>();
        var visited = new HashSet<BasicBlock>();
        var pending = new Stack<(BasicBlock Block, int From)>();
        pending.Push((startBlock, startIndex + 1));
        while (pending.Count > 0)
        {
            var (block, from) = pending.Pop();
            var outcome = Scan(block, from, start, givesBack);
            if (outcome == ScanOutcome.GivenBack)
            {
                continue;
            }

            if (outcome == ScanOutcome.Restarted || block.Kind == BasicBlockKind.Exit)
            {
                return false;
            }

            foreach (var branch in new[] { block.ConditionalSuccessor, block.FallThroughSuccessor })
            {
                if (branch is null)
                {
                    continue;
                }

                if (branch.FinallyRegions.Any(region => RegionGivesBack(graph, region, givesBack, finallyGivesBack)))
                {
                    continue;
                }

                if (branch.Destination is null)
                {
                    // A throw, a rethrow, the end of a finally or catch: not a normal way out of the method.
                    continue;
                }

                if (visited.Add(branch.Destination))
                {
                    pending.Push((branch.Destination, 0));
                }
            }
        }

        return true;
    }

    private static ScanOutcome Scan(BasicBlock block, int from, SyntaxNode start, Func<IOperation, bool> givesBack)
    {
        for (var i = from; i < block.Operations.Length; i++)
        {
            var operation = block.Operations[i];
            if (Any(operation, givesBack))
            {
                return ScanOutcome.GivenBack;
            }

            if (Contains(operation, start))
            {
                return ScanOutcome.Restarted;
            }
        }

        return block.BranchValue is { } value && Any(value, givesBack) ? ScanOutcome.GivenBack : ScanOutcome.Continued;
    }

    private static bool RegionGivesBack(
        ControlFlowGraph graph, ControlFlowRegion region, Func<IOperation, bool> givesBack, Dictionary<ControlFlowRegion, bool> cache)
    {
        if (!cache.TryGetValue(region, out var result))
        {
            result = false;
            for (var i = region.FirstBlockOrdinal; i <= region.LastBlockOrdinal && !result; i++)
            {
                var block = graph.Blocks[i];
                result = block.Operations.Any(operation => Any(operation, givesBack))
                         || (block.BranchValue is { } value && Any(value, givesBack));
            }

            cache[region] = result;
        }

        return result;
    }

    private static bool Any(IOperation operation, Func<IOperation, bool> predicate)
    {
        if (predicate(operation))
        {
            return true;
        }

        foreach (var descendant in operation.Descendants())
        {
            if (predicate(descendant))
            {
                return true;
            }
        }

        return false;
    }

    private static bool Contains(IOperation operation, SyntaxNode syntax)
        => operation.Syntax.Span.Contains(syntax.Span) && Any(operation, o => o.Syntax == syntax);

    private enum ScanOutcome
    {
        Continued,
        GivenBack,
        Restarted,
    }
}
