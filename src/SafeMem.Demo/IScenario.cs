namespace SafeMem.Demo;

/// <summary>One leak and its fix, shown side by side. Disposed after the telemetry report, so its blocks appear in it.</summary>
internal interface IScenario : IDisposable
{
    /// <summary>The argument that runs only this scenario (<c>dotnet run --project src/SafeMem.Demo -- cache</c>).</summary>
    string Key { get; }

    string Title { get; }

    void Run(TextWriter output);
}
