namespace SafeMem.Demo.Lab;

/// <summary>Told about every sample as it arrives (from any thread), to show progress while the lab runs.</summary>
internal interface ILabObserver
{
    void OnSample(Scenario scenario, VariantKind kind, Sample sample);

    void OnFinished(Scenario scenario, VariantResult result);
}
