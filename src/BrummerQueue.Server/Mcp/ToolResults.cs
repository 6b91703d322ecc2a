using System.Buffers;
using System.Text;
using System.Text.Json;
using ModelContextProtocol.Protocol;

namespace BrummerQueue.Server.Mcp;

/// <summary>Builds tool results: the JSON result both as <c>structuredContent</c> and as text content, or an error naming the argument.</summary>
internal static class ToolResults
{
    /// <summary>A successful result whose JSON object <paramref name="write"/> produces.</summary>
    public static CallToolResult Json(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return new CallToolResult
        {
            StructuredContent = document.RootElement.Clone(),
            Content = [new TextContentBlock { Text = Encoding.UTF8.GetString(buffer.WrittenSpan) }],
        };
    }

    /// <summary>A tool error (<c>isError: true</c>) whose text is <paramref name="message"/>.</summary>
    public static CallToolResult Error(string message) => new()
    {
        IsError = true,
        Content = [new TextContentBlock { Text = message }],
    };
}
