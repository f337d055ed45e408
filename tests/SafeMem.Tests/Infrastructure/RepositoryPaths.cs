namespace SafeMem.Tests.Infrastructure;

/// <summary>Finds files of the repository the tests were built from (for tests about docs and committed files).</summary>
public static class RepositoryPaths
{
    /// <summary>The folder holding SafeMem.sln, found by walking up from the test binaries.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>A path under the repository root.</summary>
    public static string Combine(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "SafeMem.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"SafeMem.sln not found above {AppContext.BaseDirectory}.");
    }
}
