using SafeMem.Demo.Report;

namespace SafeMem.Demo.Tests.Report;

/// <summary>The check of <c>--output</c> the lab makes before a run: it must refuse what the final write would fail on, and change nothing it accepts.</summary>
public sealed class HtmlReportCannotWriteTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("safemem-report-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void CannotWrite_NewFileInNewFolders_IsAccepted_AndLeavesNoFileBehind()
    {
        string path = Path.Combine(_folder, "a", "b", "report.html");

        Assert.Null(HtmlReport.CannotWrite(path));

        Assert.False(File.Exists(path));
        Assert.True(Directory.Exists(Path.GetDirectoryName(path)));
    }

    [Fact]
    public void CannotWrite_ExistingFile_IsAccepted_AndKeepsItsContent()
    {
        string path = Path.Combine(_folder, "report.html");
        File.WriteAllText(path, "the last run's report");

        Assert.Null(HtmlReport.CannotWrite(path));

        Assert.Equal("the last run's report", File.ReadAllText(path));
    }

    [Fact]
    public void CannotWrite_PathUnderAFile_SaysWhy()
    {
        // As `--output /etc/passwd/r.html`: a parent of the path is a file, so no folder can be created there.
        string file = Path.Combine(_folder, "passwd");
        File.WriteAllText(file, "");
        string path = Path.Combine(file, "r.html");

        string? problem = HtmlReport.CannotWrite(path);

        Assert.NotNull(problem);
        Assert.StartsWith($"--output '{path}': the report cannot be written there (", problem, StringComparison.Ordinal);
        Assert.Throws<IOException>(() => Directory.CreateDirectory(Path.GetDirectoryName(path)!)); // control: the write would fail
    }

    [Fact]
    public void CannotWrite_AFolder_SaysToGiveAFilePath()
    {
        string? problem = HtmlReport.CannotWrite(_folder);

        Assert.Equal($"--output '{_folder}' is a folder: give a file path, such as '{Path.Combine(_folder, "leak-lab-report.html")}'.", problem);
    }
}
