using SafeMem.Attachments;

namespace SafeMem.Tests.Attachments;

public sealed class AttachmentOptionsTests
{
    [Fact]
    public void Constructor_Defaults_AreDocumentedValues()
    {
        var options = new AttachmentOptions();

        Assert.Null(options.Name);
        Assert.Null(options.MeterFactory);
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    public void Name_EmptyOrBlank_Throws(string name)
    {
        var options = new AttachmentOptions();

        Assert.Equal("Name", Assert.Throws<ArgumentException>(() => options.Name = name).ParamName);
        Assert.Null(options.Name);
    }
}
