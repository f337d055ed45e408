// The lab measures the heap of the process it runs in: in-process runs here must not share it with other tests.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
