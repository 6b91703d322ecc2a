using System.Collections.Concurrent;
using System.Text.Json;
using BrummerQueue.Core;
using BrummerQueue.Server.Protocol;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace BrummerQueue.Server.Mcp;

/// <summary>
/// The sender's own bytes of a <c>queue_send</c> payload, taken from the JSON-RPC message before the MCP
/// SDK parses it. The SDK reads every message into nodes and writes the arguments out again with its own
/// writer (a nesting limit of 64 levels for the whole message, <c>\u</c> escapes for all non-ASCII text,
/// and an exception, answered with a bare <c>-32603</c>, for text that is not UTF-8), so the payload it
/// hands a tool is not the payload that was sent. brummerq therefore reads the payload itself:
/// <list type="bullet">
/// <item>Streamable HTTP (<see cref="SpliceHttpBody"/>): the POST body is read before the SDK sees it, the
/// payload's bytes are kept in the request's <see cref="HttpContext.Items"/> and replaced by <c>null</c> in
/// the body the SDK parses, so neither its depth nor its encoding can fail the SDK.</item>
/// <item>stdio (<see cref="SpliceLine"/>, through <see cref="SentPayloadLineStream"/>): each request line
/// is read before the SDK's reader sees it; the payload's bytes are kept by request id until the call
/// takes them, and the SDK reads the line with <c>null</c> in their place.</item>
/// </list>
/// The tool call then sends the kept bytes (<see cref="TryTake"/>), and the engine checks the payload rule
/// on them as it does for every face. Thread-safe.
/// </summary>
internal sealed class SentPayloads
{
    private const string HttpItemKey = "brummerq.sentPayload";

    /// <summary>Requests read from stdio whose call has not taken its payload yet, bounded so that lines the SDK refused cannot pile up.</summary>
    private const int MaxPendingLines = 256;

    private static readonly byte[] s_null = "null"u8.ToArray();

    private readonly ConcurrentDictionary<RequestId, byte[]> _lines = new();
    private readonly int _maxDepth;

    public SentPayloads(QueueOptions options) => _maxDepth = PayloadEnvelope.MaxDepth(options);

    /// <summary>
    /// Finds the payload of a <c>tools/call</c> of <c>queue_send</c> in one JSON-RPC message:
    /// its request id and the byte range of <c>params.arguments.payload</c>. False for any other message,
    /// one without a payload, or one that is not JSON within <paramref name="maxDepth"/> levels.
    /// </summary>
    public static bool TryFind(ReadOnlySpan<byte> message, int maxDepth, out RequestId id, out Range payload)
    {
        id = default;
        payload = default;
        var isSend = false;
        var hasId = false;
        var found = false;
        try
        {
            var reader = new Utf8JsonReader(message, new JsonReaderOptions { MaxDepth = maxDepth });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("id"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String)
                    {
                        id = new RequestId(reader.GetString()!);
                        hasId = true;
                    }
                    else if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var number))
                    {
                        id = new RequestId(number);
                        hasId = true;
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
                else if (reader.ValueTextEquals("method"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.String || !reader.ValueTextEquals("tools/call"u8))
                    {
                        return false;
                    }
                }
                else if (reader.ValueTextEquals("params"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        return false;
                    }

                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        var isName = reader.ValueTextEquals("name"u8);
                        var isArguments = reader.ValueTextEquals("arguments"u8);
                        reader.Read();
                        if (isName)
                        {
                            isSend = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals(QueueToolDefinitions.Send);
                        }
                        else if (isArguments && reader.TokenType == JsonTokenType.StartObject)
                        {
                            found = TryFindPayload(ref reader, out payload);
                        }
                        else
                        {
                            reader.Skip();
                        }
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            // The whole message must be JSON: the SDK refuses it otherwise and no call takes the payload.
            while (reader.Read())
            {
            }
        }
        catch (JsonException)
        {
            return false;
        }

        return isSend && hasId && found;
    }

    /// <summary>
    /// Wraps the SDK's <c>/mcp</c> endpoints: a POST whose body is a <c>queue_send</c> call gets its
    /// payload kept aside and replaced by <c>null</c> before the SDK reads the body.
    /// </summary>
    public static void SpliceHttpBody(EndpointBuilder endpoint)
    {
        var next = endpoint.RequestDelegate ?? throw new InvalidOperationException("the MCP endpoint has no request delegate");
        endpoint.RequestDelegate = async context =>
        {
            if (HttpMethods.IsPost(context.Request.Method) && !await SpliceAsync(context))
            {
                return;
            }

            await next(context);
        };
    }

    /// <summary>
    /// For a <c>queue_send</c> request line read from stdio: keeps the payload for its call to take and
    /// returns the line with the payload replaced by <c>null</c>; any other line is returned as it is.
    /// </summary>
    public ReadOnlySpan<byte> SpliceLine(ReadOnlySpan<byte> line)
    {
        if (!TryFind(line, _maxDepth, out var id, out var payload))
        {
            return line;
        }

        if (_lines.Count >= MaxPendingLines)
        {
            _lines.Clear();
        }

        _lines[id] = line[payload].ToArray();
        return Splice(line, payload);
    }

    /// <summary>
    /// The sender's bytes of the payload of <paramref name="request"/>, kept by <see cref="SpliceHttpBody"/>
    /// (in <paramref name="http"/>) or <see cref="SpliceLine"/>; false when none was kept.
    /// </summary>
    public bool TryTake(JsonRpcRequest request, HttpContext? http, out byte[] payload)
    {
        if (http is not null && http.Items.TryGetValue(HttpItemKey, out var item) && item is KeptPayload kept && kept.Id.Equals(request.Id))
        {
            http.Items.Remove(HttpItemKey);
            payload = kept.Utf8;
            return true;
        }

        if (http is null && _lines.TryRemove(request.Id, out var line))
        {
            payload = line;
            return true;
        }

        payload = [];
        return false;
    }

    private static bool TryFindPayload(ref Utf8JsonReader reader, out Range payload)
    {
        payload = default;
        var found = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isPayload = reader.ValueTextEquals("payload"u8);
            reader.Read();
            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            if (isPayload)
            {
                payload = start..(int)reader.BytesConsumed;
                found = true;
            }
        }

        return found;
    }

    /// <summary>
    /// Keeps a <c>queue_send</c>'s payload aside and gives the SDK the body without it. False when the request was
    /// answered here: a body that is not UTF-8 outside the payload (the SDK would read the bad bytes as U+FFFD and
    /// store a <c>type</c> or <c>channel</c> the sender never wrote) gets a <c>-32700</c> naming the byte, as a stdio
    /// line does (<see cref="JsonRpcLineGuard"/>); the payload's own bytes are the engine's payload rule's to judge.
    /// </summary>
    private static async Task<bool> SpliceAsync(HttpContext context)
    {
        var request = context.Request;
        var options = context.RequestServices.GetRequiredService<IMessageQueue>().Options;

        // A body past the message limit is left to the SDK (which reads it as it would) and to the engine's size rule.
        var limit = (long)options.MaxMessageBytes + (64 * 1024);
        if (request.ContentLength > limit)
        {
            return true;
        }

        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, context.RequestAborted);
        var body = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
        byte[] forSdk;
        if (body.Length > limit || !TryFind(body.Span, PayloadEnvelope.MaxDepth(options), out var id, out var payload))
        {
            forSdk = body.ToArray();
        }
        else
        {
            context.Items[HttpItemKey] = new KeptPayload(id, body.Span[payload].ToArray());
            forSdk = Splice(body.Span, payload);
        }

        if (JsonSyntaxFault.TryFindInvalidUtf8(forSdk, out var notUtf8))
        {
            await McpEndpointGuard.WriteErrorAsync(
                context,
                StatusCodes.Status400BadRequest,
                (int)McpErrorCode.ParseError,
                $"Parse error: the body {notUtf8.Description}; JSON-RPC messages are UTF-8 JSON text",
                notUtf8.Id);
            return false;
        }

        request.Body = new MemoryStream(forSdk, writable: false);
        request.ContentLength = forSdk.Length;
        return true;
    }

    /// <summary><paramref name="message"/> with the value at <paramref name="payload"/> replaced by <c>null</c>.</summary>
    private static byte[] Splice(ReadOnlySpan<byte> message, Range payload)
    {
        var (offset, length) = payload.GetOffsetAndLength(message.Length);
        var spliced = new byte[message.Length - length + s_null.Length];
        message[..offset].CopyTo(spliced);
        s_null.CopyTo(spliced.AsSpan(offset));
        message[(offset + length)..].CopyTo(spliced.AsSpan(offset + s_null.Length));
        return spliced;
    }

    private sealed record KeptPayload(RequestId Id, byte[] Utf8);
}
