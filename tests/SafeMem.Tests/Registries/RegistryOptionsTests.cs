using SafeMem.Registries;

namespace SafeMem.Tests.Registries;

public sealed class RegistryOptionsTests
{
    [Fact]
    public void Constructor_Defaults_AreDocumentedValues()
    {
        var options = new RegistryOptions();

        Assert.Null(options.Name);
        Assert.Null(options.MeterFactory);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\t")]
    public void Name_EmptyOrBlank_Throws(string name)
    {
        var options = new RegistryOptions();

        Assert.Equal("Name", Assert.Throws<ArgumentException>(() => options.Name = name).ParamName);
        Assert.Null(options.Name);
    }
}
