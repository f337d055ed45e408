using SafeMem.Demo.Lab;

namespace SafeMem.Demo.Terminal;

/// <summary>How the lab talks to the person running it: live in a terminal, plain lines in a log.</summary>
internal interface ILabDisplay
{
    Task<LabResult> RunAsync(IReadOnlyList<Scenario> scenarios, LabPlan plan, Func<ILabObserver, Task<LabResult>> run);

    void Summarize(LabResult result, string reportPath);
}
