using System.Buffers;
using System.CommandLine;
using System.Net.WebSockets;
using System.Text.Json;

using BrummerQueue.Server.Protocol;

namespace BrummerQueue.Server.Cli;

/// <summary>
/// <c>brummerq tail CHANNEL</c>: subscribes over the WebSocket and prints each message as one JSON
/// line on stdout until Ctrl-C. Status (subscribed, dropped counts, errors) goes to stderr.
/// </summary>
internal static class TailCommand
{
    private const string RequestId = "tail";

    public static Command Create()
    {
        var channel = new Argument<string>("CHANNEL") { Description = "Channel to follow" };
        var sinceSeq = new Option<long?>("--since-seq")
        {
            Description = "First print the retained messages after this seq (0 = all retained)",
            CustomParser = result => ServerClientOptions.ParseInteger(result, "since_seq must be an integer of at least 0"),
        };
        var host = ServerClientOptions.CreateHostOption();
        var port = ServerClientOptions.CreatePortOption();
        var url = ServerClientOptions.CreateUrlOption(host, port);
        var token = ServerClientOptions.CreateTokenOption();
        var command = new Command("tail", "Print each message sent to a channel of a running brummerq server, one JSON line each, until Ctrl-C.")
        {
            channel, sinceSeq, url, host, port, token,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var baseUrl = parse.GetRequiredValue(url);
            var tokenValue = ServerClientOptions.GetToken(parse, token);
            using var socket = new ClientWebSocket();
            socket.Options.CollectHttpResponseDetails = true;
            if (tokenValue is not null)
            {
                // A header, not ?token=: a URL is more often logged on the way.
                socket.Options.SetRequestHeader("Authorization", "Bearer " + tokenValue);
            }

            try
            {
                await socket.ConnectAsync(SocketUri(baseUrl), cancellationToken);
            }
            catch (WebSocketException) when (socket.HttpStatusCode == System.Net.HttpStatusCode.Unauthorized)
            {
                await error.WriteLineAsync("brummerq tail: " + ServerClientOptions.TokenRefused(tokenValue is not null));
                return ExitCodes.Failed;
            }
            catch (WebSocketException ex) when (socket.HttpStatusCode != 0)
            {
                var answered = $"GET {SocketUri(baseUrl).AbsolutePath} answered {(int)socket.HttpStatusCode} instead of a WebSocket";
                await error.WriteLineAsync("brummerq tail: " + (await ServerAnswer.NotBrummerqAsync(baseUrl, answered, cancellationToken)
                    ?? $"the server refused the WebSocket with {(int)socket.HttpStatusCode} {socket.HttpStatusCode} ({ex.Message})"));
                return ExitCodes.Failed;
            }
            catch (Exception ex) when (ex is WebSocketException or HttpRequestException)
            {
                return await ServerAnswer.ReportBrokenAsync("tail", baseUrl, ex, error, cancellationToken);
            }

            var frames = new FrameReader(socket);
            try
            {
                var greeting = await frames.ReadAsync(cancellationToken);
                if (!IsBrummerqGreeting(greeting))
                {
                    greeting?.Dispose();
                    await error.WriteLineAsync($"brummerq tail: {baseUrl} is not a brummerq server: its WebSocket at {SocketUri(baseUrl).AbsolutePath} did not greet as brummerq. Check --url or BRUMMERQ_URL.");
                    return ExitCodes.Failed;
                }

                frames.PutBack(greeting!);
                var subscribe = SubscribeFrame(parse.GetRequiredValue(channel), parse.GetValue(sinceSeq));
                await socket.SendAsync(subscribe, WebSocketMessageType.Text, true, cancellationToken);
                while (true)
                {
                    using var frame = await frames.ReadAsync(cancellationToken);
                    if (frame is null)
                    {
                        await error.WriteLineAsync($"brummerq tail: the server closed the connection ({socket.CloseStatus} {socket.CloseStatusDescription})");
                        return ExitCodes.Failed;
                    }

                    var root = frame.RootElement;
                    var data = root.TryGetProperty("data", out var d) ? d : default;
                    switch (root.GetProperty("type").GetString())
                    {
                        case "subscribed":
                            await error.WriteLineAsync($"brummerq tail: following '{data.GetProperty("channel").GetString()}' (subscription {data.GetProperty("subscription_id").GetString()}); Ctrl-C to stop");
                            await error.FlushAsync(cancellationToken);
                            break;
                        case "queue_message":
                            if (data.TryGetProperty("dropped", out var dropped))
                            {
                                await error.WriteLineAsync($"brummerq tail: {dropped.GetInt64()} message(s) dropped (this client fell behind)");
                            }

                            await output.WriteLineAsync(data.GetProperty("message").GetRawText());
                            await output.FlushAsync(cancellationToken);
                            break;
                        case "error" when root.TryGetProperty("id", out var id) && id.GetString() == RequestId:
                            await error.WriteLineAsync($"brummerq tail: {data.GetProperty("message").GetString()}");
                            return ServerAnswer.ExitCodeOf(data.GetProperty("code").GetString());
                        case "error" when !root.TryGetProperty("id", out _):
                            // The server refused the connection itself (token, connection limit) and closes it.
                            await error.WriteLineAsync("brummerq tail: " + (data.GetProperty("code").GetString() == WebSockets.ErrorCodes.Unauthorized
                                ? ServerClientOptions.TokenRefused(tokenValue is not null)
                                : data.GetProperty("message").GetString()));
                            return ExitCodes.Failed;
                        default:
                            break;
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                using var closeTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                try
                {
                    await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "tail stopped", closeTimeout.Token);
                }
                catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
                {
                    // Leaving anyway.
                }

                return ExitCodes.Ok;
            }
            catch (WebSocketException ex)
            {
                await error.WriteLineAsync($"brummerq tail: the connection broke ({ex.Message})");
                return ExitCodes.Failed;
            }
            catch (JsonException)
            {
                await error.WriteLineAsync($"brummerq tail: {baseUrl} is not a brummerq server: its WebSocket sent a frame that is not JSON. Check --url or BRUMMERQ_URL.");
                return ExitCodes.Failed;
            }
        });
        return command;
    }

    /// <summary>
    /// Whether <paramref name="frame"/>, the first on a connection, is brummerq's: <c>connected</c> naming the server
    /// brummerq (SPEC.md section 3), or the <c>error</c> {code, message} without id with which it refuses a connection.
    /// </summary>
    private static bool IsBrummerqGreeting(JsonDocument? frame) =>
        frame is { RootElement: { ValueKind: JsonValueKind.Object } root }
        && root.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String
        && root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object
        && type.GetString() switch
        {
            "connected" => data.TryGetProperty("server", out var server) && server.ValueKind == JsonValueKind.String && server.GetString() == Mcp.BrummerMcpServer.Name,
            "error" => !root.TryGetProperty("id", out _) && data.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.String,
            _ => false,
        };

    private static byte[] SubscribeFrame(string channel, long? sinceSeq)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WireJson.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("type", "queue_subscribe");
            writer.WriteString("id", RequestId);
            writer.WriteStartObject("data");
            writer.WriteString("channel", channel);
            if (sinceSeq is not null)
            {
                writer.WriteNumber("since_seq", sinceSeq.Value);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static Uri SocketUri(Uri baseUrl) => new UriBuilder(baseUrl)
    {
        Scheme = baseUrl.Scheme == "https" ? "wss" : "ws",
        Path = baseUrl.AbsolutePath.TrimEnd('/') + "/__brummer_ws__",
    }.Uri;

    /// <summary>Reads whole text frames from a socket as JSON documents.</summary>
    private sealed class FrameReader(WebSocket socket)
    {
        private readonly ArrayBufferWriter<byte> _buffer = new(4096);
        private JsonDocument? _pending;

        /// <summary>Makes <paramref name="frame"/> the next one <see cref="ReadAsync"/> returns.</summary>
        public void PutBack(JsonDocument frame) => _pending = frame;

        /// <summary>The next frame, or null when the server closed the socket.</summary>
        public async Task<JsonDocument?> ReadAsync(CancellationToken cancellationToken)
        {
            if (_pending is { } pending)
            {
                _pending = null;
                return pending;
            }

            _buffer.ResetWrittenCount();
            while (true)
            {
                var result = await socket.ReceiveAsync(_buffer.GetMemory(4096), cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return null;
                }

                _buffer.Advance(result.Count);
                if (result.EndOfMessage)
                {
                    return JsonDocument.Parse(_buffer.WrittenMemory.ToArray(), PayloadEnvelope.AnyReplyOptions);
                }
            }
        }
    }
}
