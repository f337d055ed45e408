using BenchmarkDotNet.Running;
using SafeMem.Benchmarks;

// Two kinds of runs share this program:
//  - BenchmarkDotNet benchmarks (single-threaded latency and allocation): `-- --filter '*Cache*'`, `-- --list flat`;
//  - console modes for what BenchmarkDotNet does not measure (multi-threaded throughput, hit-rate studies, memory
//    per entry): `-- <mode> [options]`, listed by `-- modes`.
if (args.Length > 0 && ConsoleModes.TryRun(args))
{
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(ConsoleModes).Assembly).Run(args);
