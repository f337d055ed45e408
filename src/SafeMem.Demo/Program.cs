using SafeMem.Telemetry;

// The demo grows a scenario per building block as the blocks land; for now it shows what SafeMem is made of.
Console.WriteLine($"SafeMem {SafeMemMetrics.MeterVersion} (meter '{SafeMemMetrics.MeterName}')");
Console.WriteLine();
Console.WriteLine("Building blocks, one for each classic cause of a managed memory leak:");
foreach ((string block, string cause) in new (string, string)[]
{
    ("SafeMem.Caching", "bounded LRU cache instead of a static Dictionary that only grows"),
    ("SafeMem.Events", "weak events, so a long-lived publisher does not keep subscribers alive"),
    ("SafeMem.Attachments", "side tables keyed by objects without keeping the objects alive"),
    ("SafeMem.Registries", "weak registries that forget objects nobody else uses"),
    ("SafeMem.Disposal", "scopes and a tracker that report what was never disposed"),
    ("SafeMem.Pooling", "a tracked object pool that reports objects rented and never returned"),
    ("SafeMem.Testing", "assertions that an object is collectable, and what retains it when not"),
})
{
    Console.WriteLine($"  {block,-22} {cause}");
}
