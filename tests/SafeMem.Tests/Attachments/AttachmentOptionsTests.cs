using SafeMem.Attachments;

namespace SafeMem.Tests.Attachments;

public sealed class AttachmentOptionsTests
{
    [Fact]
    public void Constructor_Defaults_AreDocumentedValues()
    {
        var options = new AttachmentOptions();

        Assert.Equal("attachment", options.Name);
        Assert.Null(options.MeterFactory);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void Name_NullOrBlank_Throws(string? name)
    {
        var options = new AttachmentOptions();

        Assert.ThrowsAny<ArgumentException>(() => options.Name = name!);
        Assert.Equal("attachment", options.Name);
    }
}
