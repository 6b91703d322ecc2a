using System.Text.Json;

namespace BrummerQueue.Core.Tests.Payload;

public sealed class JsonPayloadTests
{
    [Fact]
    public void FromElement_NonAsciiAndHtmlCharacters_KeptAsTheSenderWroteThem()
    {
        using var document = JsonDocument.Parse("{\"payload\":{\"name\":\"Zoë <b>&\",\"jp\":\"日本\"}}");
        var payload = JsonPayload.FromElement(document.RootElement.GetProperty("payload"));
        Assert.Equal("{\"name\":\"Zoë <b>&\",\"jp\":\"日本\"}", payload.ToString());
    }

    [Fact]
    public void FromElement_Undefined_IsJsonNull()
    {
        Assert.Equal("null", JsonPayload.FromElement(default).ToString());
    }

    [Fact]
    public void Default_IsJsonNullAndEqualToParsedNull()
    {
        Assert.Equal(JsonPayload.Parse("null"), JsonPayload.Null);
        Assert.Equal(4, JsonPayload.Null.Length);
    }
}
