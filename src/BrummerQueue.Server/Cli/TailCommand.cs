using System.Buffers;
using System.CommandLine;
using System.Net.WebSockets;
using System.Text.Json;

using BrummerQueue.Core;
using BrummerQueue.Server.Protocol;

namespace BrummerQueue.Server.Cli;

/// <summary>
/// <c>brummerq tail CHANNEL</c>: subscribes over the WebSocket and prints each message as one JSON
/// line on stdout until Ctrl-C. Status (subscribed, dropped counts, gaps, errors) goes to stderr. When the connection
/// is lost it reconnects (back-off from 250 ms to 5 s) and resumes from its (epoch, last seq).
/// </summary>
internal static class TailCommand
{
    private const string RequestId = "tail";

    private static readonly TimeSpan s_firstRetryDelay = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan s_maxRetryDelay = TimeSpan.FromSeconds(5);

    /// <summary>How one connection ended.</summary>
    private enum Outcome
    {
        /// <summary>The server closed the connection or it broke after the subscription was made: reconnect and resume.</summary>
        Lost,

        /// <summary>A refusal (bad argument, token) or Ctrl-C: the exit code is final.</summary>
        Done,
    }

    public static Command Create()
    {
        var channel = new Argument<string>("CHANNEL") { Description = "Channel to follow, or a pattern: * one token, > the rest ('app.>'), which follows new channels as they appear" };
        var sinceSeq = new Option<long?>("--since-seq")
        {
            Description = "First print the retained messages after this seq (0 = all retained)",
            CustomParser = result => ServerClientOptions.ParseInteger(result, WireFields.SinceSeqRule),
        };
        var epoch = new Option<string?>("--epoch")
        {
            Description = "The epoch --since-seq belongs to (from an earlier tail or the channel list); another epoch prints the whole backlog and a gap line",
        };
        var host = ServerClientOptions.CreateHostOption();
        var port = ServerClientOptions.CreatePortOption();
        var url = ServerClientOptions.CreateUrlOption(host, port);
        var token = ServerClientOptions.CreateTokenOption();
        var command = new Command(
            "tail",
            "Print each message sent to a channel of a running brummerq server, one JSON line each, until Ctrl-C. " +
            "Reconnects by itself and resumes after the last message printed; a line 'gap: ...' on stderr says when messages were missed.")
        {
            channel, sinceSeq, epoch, url, host, port, token,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var error = parse.InvocationConfiguration.Error;
            var session = new TailSession(
                parse.GetRequiredValue(channel),
                parse.GetRequiredValue(url),
                ServerClientOptions.GetToken(parse, token),
                parse.InvocationConfiguration.Output,
                error)
            {
                SinceSeq = parse.GetValue(sinceSeq),
                Epoch = parse.GetValue(epoch),
                ReportGap = parse.GetValue(sinceSeq) is not null,
            };
            var delay = s_firstRetryDelay;
            while (true)
            {
                var (outcome, exitCode) = await session.RunOnceAsync(cancellationToken);
                if (outcome == Outcome.Done)
                {
                    await session.WritePositionAsync(cancellationToken);
                    return exitCode;
                }

                try
                {
                    await Task.Delay(delay, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    await session.WritePositionAsync(cancellationToken);
                    return ExitCodes.Ok;
                }

                delay = session.WasFollowing ? s_firstRetryDelay : TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, s_maxRetryDelay.Ticks));
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

    private static byte[] SubscribeFrame(string channel, long? sinceSeq, string? epoch)
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

            if (epoch is not null)
            {
                writer.WriteString("epoch", epoch);
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

    /// <summary>
    /// One tail: its position <c>(epoch, last seq printed)</c> survives reconnects, so each connection resumes after the
    /// last message printed (SPEC.md section 1 "Resume"); the server's <c>recovered: false</c> becomes a <c>gap:</c> line.
    /// </summary>
    private sealed class TailSession(string channel, Uri baseUrl, string? token, TextWriter output, TextWriter error)
    {
        // A pattern spans channels: it has no position to resume from (docs/protocol.md "Wildcard subscriptions").
        private readonly bool _pattern = ChannelPattern.IsPattern(channel);

        private bool _connectedBefore;
        private bool _subscribedBefore;

        /// <summary>The seq to resume after (null: only new messages); the last seq printed once one was.</summary>
        public long? SinceSeq { get; set; }

        /// <summary>The epoch <see cref="SinceSeq"/> belongs to, or null when not known.</summary>
        public string? Epoch { get; set; }

        /// <summary>Whether the next subscribe reports <c>recovered: false</c> (a resume, or a --since-seq the user gave).</summary>
        public bool ReportGap { get; set; }

        /// <summary>Whether the last connection got as far as following the channel (the back-off starts again).</summary>
        public bool WasFollowing { get; private set; }

        /// <summary>
        /// When the tail was stopped (Ctrl-C) after printing from a channel: one stderr line with its position and the
        /// command that resumes there (a pattern has none).
        /// </summary>
        public async Task WritePositionAsync(CancellationToken stopped)
        {
            if (stopped.IsCancellationRequested && !_pattern && SinceSeq is { } seq && Epoch is { } epoch)
            {
                await error.WriteLineAsync($"brummerq tail: stopped at epoch {epoch} seq {seq}; resume with: brummerq tail {channel} --epoch {epoch} --since-seq {seq}");
            }
        }

        public async Task<(Outcome Outcome, int ExitCode)> RunOnceAsync(CancellationToken cancellationToken)
        {
            WasFollowing = false;
            using var socket = new ClientWebSocket();
            socket.Options.CollectHttpResponseDetails = true;
            if (token is not null)
            {
                // A header, not ?token=: a URL is more often logged on the way.
                socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
            }

            try
            {
                await socket.ConnectAsync(SocketUri(baseUrl), cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return (Outcome.Done, ExitCodes.Ok);
            }
            catch (WebSocketException) when (socket.HttpStatusCode == System.Net.HttpStatusCode.Unauthorized)
            {
                await error.WriteLineAsync("brummerq tail: " + ServerClientOptions.TokenRefused(token is not null));
                return (Outcome.Done, ExitCodes.Failed);
            }
            catch (WebSocketException ex) when (socket.HttpStatusCode != 0 && !_connectedBefore)
            {
                var answered = $"GET {SocketUri(baseUrl).AbsolutePath} answered {(int)socket.HttpStatusCode} instead of a WebSocket";
                await error.WriteLineAsync("brummerq tail: " + (await ServerAnswer.NotBrummerqAsync(baseUrl, answered, cancellationToken)
                    ?? $"the server refused the WebSocket with {(int)socket.HttpStatusCode} {socket.HttpStatusCode} ({ex.Message})"));
                return (Outcome.Done, ExitCodes.Failed);
            }
            catch (Exception ex) when (ex is WebSocketException or HttpRequestException)
            {
                if (!_connectedBefore)
                {
                    return (Outcome.Done, await ServerAnswer.ReportBrokenAsync("tail", baseUrl, ex, error, cancellationToken));
                }

                // The server is away (restarting): keep trying until it is back or Ctrl-C.
                return (Outcome.Lost, ExitCodes.Ok);
            }

            var frames = new FrameReader(socket);
            try
            {
                var greeting = await frames.ReadAsync(cancellationToken);
                if (!IsBrummerqGreeting(greeting))
                {
                    greeting?.Dispose();
                    if (_connectedBefore)
                    {
                        return (Outcome.Lost, ExitCodes.Ok);
                    }

                    await error.WriteLineAsync($"brummerq tail: {baseUrl} is not a brummerq server: its WebSocket at {SocketUri(baseUrl).AbsolutePath} did not greet as brummerq. Check {ServerClientOptions.WhereToPoint}.");
                    return (Outcome.Done, ExitCodes.Failed);
                }

                frames.PutBack(greeting!);
                if (!_connectedBefore && SinceSeq is null && Epoch is null && !_pattern)
                {
                    await LookUpPositionAsync(cancellationToken);
                }

                _connectedBefore = true;
                // The user's --epoch goes as given (the server checks it); a learnt epoch only with the seq it belongs to.
                var epoch = SinceSeq is null && _subscribedBefore ? null : Epoch;
                await socket.SendAsync(SubscribeFrame(channel, SinceSeq, epoch), WebSocketMessageType.Text, true, cancellationToken);
                while (true)
                {
                    using var frame = await frames.ReadAsync(cancellationToken);
                    if (frame is null)
                    {
                        await error.WriteLineAsync($"brummerq tail: the server closed the connection ({socket.CloseStatus} {socket.CloseStatusDescription}); reconnecting, Ctrl-C to stop");
                        return (Outcome.Lost, ExitCodes.Ok);
                    }

                    var root = frame.RootElement;
                    var data = root.TryGetProperty("data", out var d) ? d : default;
                    switch (root.GetProperty("type").GetString())
                    {
                        case "subscribed":
                            await OnSubscribedAsync(data);
                            await error.FlushAsync(cancellationToken);
                            break;
                        case "queue_message":
                            if (data.TryGetProperty("dropped", out var dropped))
                            {
                                await error.WriteLineAsync($"brummerq tail: {dropped.GetInt64()} message(s) dropped (this client fell behind)");
                            }

                            // The server replays only what is after the position and pushes in seq order: no duplicates to skip.
                            var message = data.GetProperty("message");
                            if (!_pattern)
                            {
                                SinceSeq = message.GetProperty("seq").GetInt64();
                            }

                            await output.WriteLineAsync(message.GetRawText());
                            await output.FlushAsync(cancellationToken);
                            break;
                        case "error" when root.TryGetProperty("id", out var id) && id.GetString() == RequestId:
                            await error.WriteLineAsync($"brummerq tail: {data.GetProperty("message").GetString()}");
                            return (Outcome.Done, ServerAnswer.ExitCodeOf(data.GetProperty("code").GetString()));
                        case "error" when !root.TryGetProperty("id", out _):
                            // The server refused the connection itself (token, connection limit) and closes it.
                            await error.WriteLineAsync("brummerq tail: " + (data.GetProperty("code").GetString() == WebSockets.ErrorCodes.Unauthorized
                                ? ServerClientOptions.TokenRefused(token is not null)
                                : data.GetProperty("message").GetString()));
                            return (Outcome.Done, ExitCodes.Failed);
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

                return (Outcome.Done, ExitCodes.Ok);
            }
            catch (WebSocketException ex)
            {
                await error.WriteLineAsync($"brummerq tail: the connection broke ({ex.Message}); reconnecting, Ctrl-C to stop");
                return (Outcome.Lost, ExitCodes.Ok);
            }
            catch (JsonException) when (!_connectedBefore)
            {
                await error.WriteLineAsync($"brummerq tail: {baseUrl} is not a brummerq server: its WebSocket sent a frame that is not JSON. Check {ServerClientOptions.WhereToPoint}.");
                return (Outcome.Done, ExitCodes.Failed);
            }
        }

        private async Task OnSubscribedAsync(JsonElement data)
        {
            WasFollowing = true;
            if (_pattern)
            {
                await error.WriteLineAsync($"brummerq tail: following pattern '{channel}' (subscription {data.GetProperty("subscription_id").GetString()}; each line names its channel, new channels are followed as they appear); Ctrl-C to stop");
                if (_subscribedBefore)
                {
                    await error.WriteLineAsync("brummerq tail: gap: resubscribed to the pattern; a pattern cannot resume, so messages sent while disconnected are not shown");
                }

                _subscribedBefore = true;
                return;
            }

            var epoch = data.TryGetProperty("epoch", out var e) ? e.GetString() : null;
            var recovered = data.TryGetProperty("recovered", out var r) ? r.GetBoolean() : (bool?)null;
            await error.WriteLineAsync($"brummerq tail: following '{data.GetProperty("channel").GetString()}' (subscription {data.GetProperty("subscription_id").GetString()}, epoch {epoch}); Ctrl-C to stop");
            var previous = Epoch;
            if (ReportGap && recovered == false)
            {
                await error.WriteLineAsync(
                    previous is null ? $"brummerq tail: gap: messages after seq {SinceSeq} are missing (consumed, evicted or expired, or the channel was made again since); printing what is still retained"
                    : epoch != previous ? $"brummerq tail: gap: channel '{channel}' was made again (epoch {previous} is gone, now {epoch}: removed by cleanup, or the server restarted); messages of the old epoch after seq {SinceSeq} that were not printed are lost; printing the new epoch's retained messages"
                    : $"brummerq tail: gap: messages after seq {SinceSeq} were consumed, evicted or expired before they could be printed; printing what is still retained");
            }
            else if (SinceSeq is null && _subscribedBefore)
            {
                await error.WriteLineAsync("brummerq tail: gap: resumed without a position (no message printed yet and the channel list could not be read); messages sent while disconnected are not shown");
            }

            if (epoch is not null && epoch != previous)
            {
                // A new incarnation restarts seqs at 1 and the server replayed its whole backlog; without a known epoch
                // and with a gap it is unknown which rule applied, so the position starts over too (repeats, never gaps).
                if (previous is not null || recovered == false)
                {
                    SinceSeq = 0;
                }

                Epoch = epoch;
            }

            // From now on every subscribe resumes from the position, and a gap is worth a line.
            _subscribedBefore = true;
            ReportGap = true;
        }

        /// <summary>
        /// A tail of new messages only starts at the channel's current (epoch, last seq), read from <c>/api/channels</c>,
        /// so that a reconnect before the first message resumes exactly. A channel not there yet starts at seq 0 (all
        /// its messages are new); when the lookup fails the tail follows new messages without a position until the
        /// first one arrives.
        /// </summary>
        private async Task LookUpPositionAsync(CancellationToken cancellationToken)
        {
            try
            {
                using var http = ServerClientOptions.CreateHttpClient(baseUrl, token);
                using var list = JsonDocument.Parse(await http.GetStringAsync(new Uri("api/channels", UriKind.Relative), cancellationToken));
                SinceSeq = 0;
                foreach (var listed in list.RootElement.GetProperty("channels").EnumerateArray())
                {
                    if (listed.GetProperty("name").GetString() == channel)
                    {
                        SinceSeq = listed.GetProperty("last_seq").GetInt64();
                        Epoch = listed.GetProperty("epoch").GetString();
                    }
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or JsonException or KeyNotFoundException or InvalidOperationException or TaskCanceledException)
            {
                SinceSeq = null;
                Epoch = null;
            }
        }
    }

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
