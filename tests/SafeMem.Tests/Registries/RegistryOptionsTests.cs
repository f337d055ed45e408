using SafeMem.Registries;

namespace SafeMem.Tests.Registries;

public sealed class RegistryOptionsTests
{
    [Fact]
    public void Constructor_Defaults_AreDocumentedValues()
    {
        var options = new RegistryOptions();

        Assert.Equal("registry", options.Name);
        Assert.Null(options.MeterFactory);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("\t")]
    public void Name_NullOrBlank_Throws(string? name)
    {
        var options = new RegistryOptions();

        Assert.ThrowsAny<ArgumentException>(() => options.Name = name!);
        Assert.Equal("registry", options.Name);
    }
}
