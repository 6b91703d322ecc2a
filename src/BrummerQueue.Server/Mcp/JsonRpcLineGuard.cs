using System.Text.Json;
using BrummerQueue.Server.Protocol;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace BrummerQueue.Server.Mcp;

/// <summary>
/// Checks each line that <c>brummerq mcp</c> reads on stdin before the SDK sees it, and words the
/// JSON-RPC error for one that is not a JSON-RPC message: <c>-32700</c> (Parse error) for a line
/// that is not JSON or not UTF-8, <c>-32600</c> (Invalid Request) for JSON that is not a JSON-RPC 2.0
/// message. The SDK's stdio transport (2.4.0) answers neither (it logs and reads on; a request
/// then waits forever for its answer) except a line whose id it can read, which it answers with
/// a bare "Failed to parse the JSON-RPC request." The error keeps the request's id when it could be
/// read (otherwise <c>null</c>, as JSON-RPC 2.0 says), and says what is wrong and where.
/// Stateless and thread-safe.
/// </summary>
internal static class JsonRpcLineGuard
{
    /// <summary>Null when the SDK can take <paramref name="line"/> (a message, or a blank line it skips); else the error to answer.</summary>
    public static JsonRpcError? Check(ReadOnlySpan<byte> line)
    {
        if (line.StartsWith("\uFEFF"u8))
        {
            line = line[3..];
        }

        if (line.Trim(" \t\r\n"u8).IsEmpty)
        {
            return null;
        }

        if (JsonSyntaxFault.TryFindInvalidUtf8(line, out var notUtf8))
        {
            return Error(notUtf8.Id, McpErrorCode.ParseError, $"Parse error: the line {notUtf8.Description}; JSON-RPC messages are UTF-8 JSON text, one per line");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line.ToArray(), new JsonDocumentOptions { MaxDepth = PayloadEnvelope.McpSdkMaxDepth });
        }
        catch (JsonException e)
        {
            var fault = JsonSyntaxFault.Describe(line, e);
            return Error(fault.Id, McpErrorCode.ParseError, $"Parse error: the line {fault.Description}; send one JSON-RPC message (a JSON object) per line");
        }

        using (document)
        {
            return CheckMessage(document.RootElement);
        }
    }

    private static JsonRpcError? CheckMessage(JsonElement root)
    {
        if (root.ValueKind == JsonValueKind.Array)
        {
            return Error(null, McpErrorCode.InvalidRequest, "Invalid Request: a JSON array (a JSON-RPC batch) is not accepted; MCP sends one JSON-RPC message (a JSON object) per line");
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            return Error(null, McpErrorCode.InvalidRequest, $"Invalid Request: a JSON-RPC message is a JSON object {{\"jsonrpc\":\"2.0\", ...}}, not {root.ValueKind.ToString().ToLowerInvariant()}");
        }

        string? id = null;
        var hasId = root.TryGetProperty("id", out var idElement);
        if (hasId && idElement.ValueKind is not JsonValueKind.Null)
        {
            if (idElement.ValueKind == JsonValueKind.String || (idElement.ValueKind == JsonValueKind.Number && idElement.TryGetInt64(out _)))
            {
                id = idElement.GetRawText();
            }
            else
            {
                return Error(null, McpErrorCode.InvalidRequest, "Invalid Request: id must be a string or an integer");
            }
        }

        if (!root.TryGetProperty("jsonrpc", out var version) || version.ValueKind != JsonValueKind.String || !version.ValueEquals("2.0"))
        {
            return Error(id, McpErrorCode.InvalidRequest, "Invalid Request: jsonrpc must be \"2.0\"");
        }

        if (root.TryGetProperty("method", out var method))
        {
            if (method.ValueKind != JsonValueKind.String)
            {
                return Error(id, McpErrorCode.InvalidRequest, "Invalid Request: method must be a string");
            }

            if (hasId && id is null)
            {
                return Error(null, McpErrorCode.InvalidRequest, "Invalid Request: id must not be null; leave id out to send a notification");
            }

            if (root.TryGetProperty("params", out var parameters) && parameters.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
            {
                return Error(id, McpErrorCode.InvalidRequest, "Invalid Request: params must be a JSON object");
            }

            return null;
        }

        // Without method: an answer to a request of the server, which needs an id and a result or an error.
        return id is not null && (root.TryGetProperty("result", out _) || root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            ? null
            : Error(id, McpErrorCode.InvalidRequest, "Invalid Request: method is required (a string), or, for an answer to a server request, id and result or error");
    }

    private static JsonRpcError Error(string? rawId, McpErrorCode code, string message) => new()
    {
        Id = ToRequestId(rawId),
        Error = new JsonRpcErrorDetail { Code = (int)code, Message = message },
    };

    private static RequestId ToRequestId(string? rawId)
    {
        if (rawId is null)
        {
            return default;
        }

        if (rawId.StartsWith('"'))
        {
            using var document = JsonDocument.Parse(rawId);
            return document.RootElement.GetString() is { } text ? new RequestId(text) : default;
        }

        return long.TryParse(rawId, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var number) ? new RequestId(number) : default;
    }
}
