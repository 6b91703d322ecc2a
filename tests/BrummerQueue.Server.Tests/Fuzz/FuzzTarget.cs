using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using BrummerQueue.Server.Tests.Mcp;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace BrummerQueue.Server.Tests.Fuzz;

/// <summary>
/// Sends fuzz inputs to one in-process server and checks each reply: a WebSocket frame gets only
/// well-formed frames back (then the reply to a sentinel <c>ping</c>) or a close with a documented
/// code; an MCP call gets a tool result (an error result naming the rule when refused) or a JSON-RPC
/// invalid-params error; an HTTP request gets a documented status with a JSON body. Every
/// acknowledgement and every read is written to the <see cref="FuzzLedger"/>.
/// </summary>
internal sealed class FuzzTarget(TestServerHost host, HttpClient http, McpClient mcp, RawMcpSession rawMcp, FuzzLedger ledger) : IAsyncDisposable
{
    /// <summary>
    /// The deepest payload (in nested arrays and objects) that the SDK's client can read in a <c>queue_receive</c>
    /// result, with a margin: it refuses a reply more than 64 levels deep and drops it without an error ("response
    /// completed without a reply"), and the payload sits 5 levels down (response, result, structuredContent,
    /// messages, message). The server writes such a reply whole (StructuredContentRelay), so a channel holding a
    /// deeper payload is read over MCP through <see cref="RawMcpSession"/>, which reads replies at any depth.
    /// </summary>
    public const int SdkClientPayloadDepth = 55;

    private static readonly TimeSpan s_replyTimeout = TimeSpan.FromSeconds(15);
    private static readonly HashSet<string> s_frameTypes = ["ack", "subscribed", "unsubscribed", "messages", "pong", "error", "queue_message", "connected"];
    private static readonly HashSet<string> s_errorCodes = ["invalid_json", "invalid_argument", "unknown_type", "message_too_large", "queue_full", "too_many_subscriptions", "limit_exceeded", "not_found", "frame_too_large", "rate_limited"];
    private static readonly HashSet<int> s_closeCodes = [1007, 1008, 1009];
    private static readonly HashSet<HttpStatusCode> s_statuses = [HttpStatusCode.OK, HttpStatusCode.Created, HttpStatusCode.NoContent, HttpStatusCode.BadRequest, HttpStatusCode.NotFound, HttpStatusCode.MethodNotAllowed, HttpStatusCode.RequestEntityTooLarge, HttpStatusCode.TooManyRequests];

    /// <summary>Replies may nest deeper than a parser's default 64 levels: a payload of 64 levels sits inside the message and the frame.</summary>
    public static readonly JsonDocumentOptions ReplyParsing = new() { MaxDepth = 1024 };

    private static readonly JsonSerializerOptions s_deepArguments = new() { MaxDepth = 1024 };

    private readonly ConcurrentBag<WebSocket> _sockets = [];
    private readonly byte[] _buffer = new byte[4 << 20];
    private long _sentinel;
    private bool _deep;

    public async Task RunAsync(FuzzInput input)
    {
        var face = input.Face switch { FuzzFace.WebSocket => "ws", FuzzFace.Mcp => "mcp", _ => "http" };
        if (SetsShortTtl(input))
        {
            ledger.Count($"{face} skipped: ttl under 3600 s");
            return;
        }

        ledger.Count($"{face} inputs");
        _deep = PayloadNesting(input) > SdkClientPayloadDepth;
        switch (input.Face)
        {
            case FuzzFace.WebSocket:
                await RunWebSocketAsync(input);
                break;
            case FuzzFace.Mcp:
                await RunMcpAsync(input);
                break;
            default:
                await RunHttpAsync(input);
                break;
        }
    }

    public async ValueTask DisposeAsync()
    {
        while (_sockets.TryTake(out var socket))
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
                // Already closing.
            }

            socket.Dispose();
        }
    }

    /// <summary>
    /// True when the input, read as the server reads it, sends a message with a TTL of 1–3599 s (a mutation
    /// can turn <c>3600</c> into <c>300</c>). Such a message could expire during the run or its read-back,
    /// which would make the exact accounting after the run depend on timing, so it is not sent.
    /// </summary>
    private static bool SetsShortTtl(FuzzInput input)
    {
        try
        {
            using var document = JsonDocument.Parse(input.Body, new JsonDocumentOptions { MaxDepth = 1024 });
            var root = document.RootElement;
            var fields = input.Face == FuzzFace.WebSocket && root.ValueKind == JsonValueKind.Object && root.TryGetProperty("data", out var data) ? data : root;
            return fields.ValueKind == JsonValueKind.Object
                && fields.TryGetProperty("ttl", out var ttl)
                && ttl.ValueKind == JsonValueKind.Number
                && ttl.TryGetDouble(out var seconds)
                && seconds is > 0 and < 3600;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // Not JSON, or a name that is not text: the server refuses it before reading a TTL.
            return false;
        }
    }

    /// <summary>How deep the input's payload nests (0 for a scalar or none); inputs that are not JSON count as 0.</summary>
    private static int PayloadNesting(FuzzInput input)
    {
        try
        {
            using var document = JsonDocument.Parse(input.Body, new JsonDocumentOptions { MaxDepth = 1024 });
            var root = document.RootElement;
            var fields = input.Face == FuzzFace.WebSocket && root.ValueKind == JsonValueKind.Object && root.TryGetProperty("data", out var data) ? data : root;
            return fields.ValueKind == JsonValueKind.Object && fields.TryGetProperty("payload", out var payload) ? Nesting(payload) : 0;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return 0;
        }

        static int Nesting(JsonElement e) => e.ValueKind switch
        {
            JsonValueKind.Object => 1 + e.EnumerateObject().Select(p => Nesting(p.Value)).DefaultIfEmpty(0).Max(),
            JsonValueKind.Array => 1 + e.EnumerateArray().Select(Nesting).DefaultIfEmpty(0).Max(),
            _ => 0,
        };
    }

    /// <summary>True when <paramref name="channel"/> names a channel in <see cref="FuzzLedger.DeepChannels"/>; a string that is not text (a lone surrogate escape) names none.</summary>
    private bool IsDeepChannel(JsonElement channel)
    {
        try
        {
            return channel.ValueKind == JsonValueKind.String && ledger.DeepChannels.ContainsKey(channel.GetString()!);
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private void Ack(string id, string channel)
    {
        ledger.Acked[id] = channel;
        if (_deep)
        {
            ledger.DeepChannels[channel] = 0;
        }
    }

    /// <summary>Opens a socket on the server and reads its greeting.</summary>
    public async Task<WebSocket> OpenSocketAsync()
    {
        using var timeout = new CancellationTokenSource(s_replyTimeout);
        var socket = await host.TestServer!.CreateWebSocketClient().ConnectAsync(new Uri("ws://localhost/__brummer_ws__"), timeout.Token);
        var (greeting, _) = await ReceiveFrameAsync(socket, timeout.Token);
        Assert.Equal("connected", greeting?.GetProperty("type").GetString());
        return socket;
    }

    /// <summary>Receives one whole frame; null with the close status when the server closed the socket.</summary>
    public async Task<(JsonElement? Frame, int? Close)> ReceiveFrameAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        var count = 0;
        while (true)
        {
            var result = await socket.ReceiveAsync(_buffer.AsMemory(count), cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return (null, (int?)socket.CloseStatus ?? 1005);
            }

            Assert.Equal(WebSocketMessageType.Text, result.MessageType);
            count += result.Count;
            if (result.EndOfMessage)
            {
                Assert.True(System.Text.Unicode.Utf8.IsValid(_buffer.AsSpan(0, count)), "the server sent a frame that is not UTF-8");
                return (JsonDocument.Parse(_buffer.AsMemory(0, count), FuzzTarget.ReplyParsing).RootElement.Clone(), null);
            }
        }
    }

    private async Task RunWebSocketAsync(FuzzInput input)
    {
        var socket = _sockets.TryTake(out var pooled) && pooled.State == WebSocketState.Open ? pooled : await OpenSocketAsync();
        using var timeout = new CancellationTokenSource(s_replyTimeout);
        var sentinel = $"fz-sentinel-{Interlocked.Increment(ref _sentinel)}";
        var type = input.Binary ? WebSocketMessageType.Binary : WebSocketMessageType.Text;
        try
        {
            var step = Math.Max(1, (input.Body.Length + input.Fragments - 1) / input.Fragments);
            for (var at = 0; at < input.Body.Length || at == 0; at += step)
            {
                var end = Math.Min(input.Body.Length, at + step);
                await socket.SendAsync(input.Body.AsMemory(at, end - at), type, end >= input.Body.Length, timeout.Token);
                if (end >= input.Body.Length)
                {
                    break;
                }
            }

            await socket.SendAsync(Encoding.UTF8.GetBytes($"{{\"type\":\"ping\",\"id\":\"{sentinel}\"}}"), WebSocketMessageType.Text, true, timeout.Token);
        }
        catch (WebSocketException)
        {
            // The server closed the socket (e.g. 1007 for a text frame that is not UTF-8); its close is read below.
        }

        while (true)
        {
            JsonElement? frame;
            int? close;
            try
            {
                (frame, close) = await ReceiveFrameAsync(socket, timeout.Token);
            }
            catch (WebSocketException) when (socket.CloseStatus is { } status)
            {
                (frame, close) = (null, (int)status);
            }

            if (close is { } code)
            {
                Assert.True(s_closeCodes.Contains(code), $"closed with {code} '{socket.CloseStatusDescription}', not a documented code");
                ledger.Count($"ws close {code}");
                socket.Dispose();
                return;
            }

            var f = frame!.Value;
            var frameType = f.GetProperty("type").GetString()!;
            Assert.True(s_frameTypes.Contains(frameType), $"unexpected frame type in {f}");
            switch (frameType)
            {
                case "pong" when f.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String && id.ValueEquals(sentinel):
                    _sockets.Add(socket);
                    return;
                case "ack":
                    var data = f.GetProperty("data");
                    Ack(data.GetProperty("message_id").GetString()!, data.GetProperty("channel").GetString()!);
                    ledger.Count("ws accepted");
                    break;
                case "messages":
                    foreach (var message in f.GetProperty("data").GetProperty("messages").EnumerateArray())
                    {
                        ledger.HandedOver[message.GetProperty("id").GetString()!] = 0;
                    }

                    ledger.Count("ws read");
                    break;
                case "error":
                    var error = f.GetProperty("data");
                    var errorCode = error.GetProperty("code").GetString()!;
                    Assert.True(s_errorCodes.Contains(errorCode), $"undocumented error code in {f}");
                    Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()), $"error without a message: {f}");
                    ledger.Count($"ws refused {errorCode}");
                    break;
            }
        }
    }

    private async Task RunMcpAsync(FuzzInput input)
    {
        if (!System.Text.Unicode.Utf8.IsValid(input.Body))
        {
            // The SDK's client cannot transcode text that is not UTF-8 into its request; the raw-bytes path through
            // MCP is covered by PayloadRoundTripTests, which speaks Streamable HTTP by hand.
            ledger.Count("mcp not sendable by the SDK client (not UTF-8)");
            return;
        }

        Dictionary<string, JsonElement> arguments;
        try
        {
            arguments = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(input.Body, s_deepArguments)!;
        }
        catch (JsonException)
        {
            // Deeper than 1024 levels: far beyond what the SDK's client can send (below).
            ledger.Count("mcp not sendable by the SDK client (depth)");
            return;
        }

        if (input.Target == "queue_receive" && arguments.TryGetValue("channel", out var channel) && IsDeepChannel(channel))
        {
            await RunRawMcpReceiveAsync(input);
            return;
        }

        using var timeout = new CancellationTokenSource(s_replyTimeout);
        CallToolResult result;
        try
        {
            result = await mcp.CallToolAsync(new CallToolRequestParams { Name = input.Target, Arguments = arguments }, timeout.Token);
        }
        catch (McpProtocolException e) when (e.ErrorCode == McpErrorCode.InvalidParams)
        {
            // Unknown tool names are answered with a JSON-RPC invalid-params error, as the SDK does.
            ledger.Count("mcp refused (json-rpc invalid params)");
            return;
        }
        catch (JsonException e) when (e.InnerException is InvalidOperationException && e.Message.Contains("could not be serialized", StringComparison.Ordinal))
        {
            // The SDK's client could not write its request (a server-side failure comes back as a JSON-RPC
            // error, and the client only reads replies), so nothing reached the server: it serializes at
            // most 64 levels deep and the JSON-RPC envelope adds 3 to the arguments (no payload deeper than 61),
            // and it refuses to write a string with a lone surrogate escape.
            ledger.Count($"mcp not sendable by the SDK client ({(e.InnerException.Message.Contains("surrogate", StringComparison.Ordinal) ? "lone surrogate" : "depth")})");
            return;
        }

        var text = Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;
        if (result.IsError == true)
        {
            Assert.False(string.IsNullOrWhiteSpace(text) || text.Contains("An error occurred", StringComparison.Ordinal), $"a generic or empty error: {text}");
            ledger.Count("mcp refused");
            return;
        }

        var structured = JsonSerializer.SerializeToElement(Assert.NotNull(result.StructuredContent));
        if (input.Target == "queue_send")
        {
            var message = structured.GetProperty("message");
            Ack(message.GetProperty("id").GetString()!, message.GetProperty("channel").GetString()!);
            ledger.Count("mcp accepted");
        }
        else if (input.Target == "queue_receive")
        {
            foreach (var message in structured.GetProperty("messages").EnumerateArray())
            {
                ledger.HandedOver[message.GetProperty("id").GetString()!] = 0;
            }

            ledger.Count("mcp read");
        }
        else
        {
            ledger.Count("mcp ok");
        }
    }

    /// <summary>A <c>queue_receive</c> on a channel that may hold a payload too deep for the SDK's client (<see cref="SdkClientPayloadDepth"/>).</summary>
    private async Task RunRawMcpReceiveAsync(FuzzInput input)
    {
        var reply = await rawMcp.CallAsync(input.Target, input.Body).WaitAsync(s_replyTimeout);
        if (reply.TryGetProperty("error", out var error))
        {
            Assert.True(error.GetProperty("code").GetInt32() == (int)McpErrorCode.InvalidParams, $"a JSON-RPC error other than invalid params: {reply}");
            ledger.Count("mcp refused (json-rpc invalid params)");
            return;
        }

        var result = reply.GetProperty("result");
        var text = Assert.Single(result.GetProperty("content").EnumerateArray()).GetProperty("text").GetString();
        if (result.TryGetProperty("isError", out var isError) && isError.GetBoolean())
        {
            Assert.False(string.IsNullOrWhiteSpace(text) || text.Contains("An error occurred", StringComparison.Ordinal), $"a generic or empty error: {text}");
            ledger.Count("mcp refused");
            return;
        }

        foreach (var message in result.GetProperty("structuredContent").GetProperty("messages").EnumerateArray())
        {
            ledger.HandedOver[message.GetProperty("id").GetString()!] = 0;
        }

        ledger.Count("mcp read (raw, deep payload)");
    }

    private async Task RunHttpAsync(FuzzInput input)
    {
        var space = input.Target.IndexOf(' ', StringComparison.Ordinal);
        using var request = new HttpRequestMessage(new HttpMethod(input.Target[..space]), input.Target[(space + 1)..]);
        if (input.Body.Length > 0)
        {
            request.Content = new ByteArrayContent(input.Body);
        }

        using var timeout = new CancellationTokenSource(s_replyTimeout);
        using var response = await http.SendAsync(request, timeout.Token);
        var body = await response.Content.ReadAsByteArrayAsync(timeout.Token);
        Assert.True(s_statuses.Contains(response.StatusCode), $"status {(int)response.StatusCode}: {Encoding.UTF8.GetString(body)}");
        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            ledger.Count("http 204");
            return;
        }

        Assert.True(System.Text.Unicode.Utf8.IsValid(body), "the reply is not UTF-8");
        var json = JsonDocument.Parse(body, FuzzTarget.ReplyParsing).RootElement;
        if ((int)response.StatusCode >= 400)
        {
            Assert.False(string.IsNullOrWhiteSpace(json.GetProperty("detail").GetString()), $"a refusal without detail: {json}");
            ledger.Count($"http refused {(int)response.StatusCode} {json.GetProperty("code").GetString()}");
        }
        else if (response.StatusCode == HttpStatusCode.Created)
        {
            var message = json.GetProperty("message");
            Ack(message.GetProperty("id").GetString()!, message.GetProperty("channel").GetString()!);
            ledger.Count("http accepted");
        }
        else if (json.TryGetProperty("messages", out var messages))
        {
            foreach (var message in messages.EnumerateArray())
            {
                ledger.HandedOver[message.GetProperty("id").GetString()!] = 0;
            }

            ledger.Count("http read");
        }
        else
        {
            ledger.Count("http ok");
        }
    }
}
