using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using BrummerQueue.Server.Protocol;
using ModelContextProtocol.Protocol;

namespace BrummerQueue.Server.Mcp;

/// <summary>
/// Builds tool results: the JSON result both as <c>structuredContent</c> and as text content, or an error naming
/// the argument. The text is written with relaxed escaping (no <c>\u0022</c>-style escapes of non-ASCII text) so a
/// model reads it as written; it is still valid JSON and travels inside a JSON-RPC string.
/// </summary>
internal static class ToolResults
{

    /// <summary>A successful result whose JSON object <paramref name="write"/> produces.</summary>
    public static CallToolResult Json(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WireJson.WriterOptions))
        {
            write(writer);
        }

        // Results hold stored payloads, which may nest up to the largest depth limit a queue can have.
        using var document = JsonDocument.Parse(buffer.WrittenMemory, PayloadEnvelope.AnyReplyOptions);
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
