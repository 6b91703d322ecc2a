using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using BrummerQueue.Core;
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
    /// <summary>The <c>_meta</c> key of a refusal's machine-readable form.</summary>
    public const string ErrorMeta = "brummerq/error";

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

    /// <summary>
    /// A refusal as a tool error: the text is the refusal's message, and <c>_meta["brummerq/error"]</c> is
    /// <c>{ "code", "message", "field"? }</c>, the code being the same wire code the other faces answer. Not in
    /// <c>structuredContent</c>: the TypeScript SDK (1.17 to 1.32) checks <c>structuredContent</c> against the tool's
    /// <c>outputSchema</c> even on an error, and an error object there turns every refusal into a protocol exception.
    /// </summary>
    public static CallToolResult Error(QueueException refusal)
    {
        var error = new JsonObject { ["code"] = refusal.Code, ["message"] = refusal.Message };
        if (refusal.Field is not null)
        {
            error["field"] = refusal.Field;
        }

        return new CallToolResult
        {
            IsError = true,
            Content = [new TextContentBlock { Text = refusal.Message }],
            Meta = new JsonObject { [ErrorMeta] = error },
        };
    }

    /// <summary>A tool error (<c>isError: true</c>) whose text is <paramref name="message"/>.</summary>
    public static CallToolResult Error(string message) => new()
    {
        IsError = true,
        Content = [new TextContentBlock { Text = message }],
    };
}
