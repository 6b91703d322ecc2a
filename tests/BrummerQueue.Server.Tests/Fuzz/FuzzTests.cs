using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using BrummerQueue.Server.Tests.Mcp;
using CsCheck;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BrummerQueue.Server.Tests.Fuzz;

/// <summary>
/// Throws generated and mutated inputs (<see cref="FuzzGenerators"/>) at one in-process server over
/// the WebSocket, MCP (the SDK's client) and the HTTP API, then checks that nothing was logged at
/// Error or above, that the server still serves, that every acknowledged message is readable on
/// every face, and that <c>queue_stats</c> equals what the acknowledgements imply.
/// CI runs <see cref="DefaultIterations"/> inputs; <c>BRUMMERQ_FUZZ_ITERATIONS=100000</c> runs the long
/// run. A failing input is shrunk by CsCheck and reported with its seed; set
/// <c>BRUMMERQ_FUZZ_SEED</c> (or <c>CsCheck_Seed</c>) to that seed to replay it.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class FuzzTests
{
    private const int DefaultIterations = 3000;

    [Fact]
    public async Task AllFaces_GeneratedAndMutatedInputs_EveryReplyWellFormedAndEveryAckReadable()
    {
        var iterations = int.TryParse(Environment.GetEnvironmentVariable("BRUMMERQ_FUZZ_ITERATIONS"), CultureInfo.InvariantCulture, out var n) && n > 0 ? n : DefaultIterations;
        var seed = Environment.GetEnvironmentVariable("BRUMMERQ_FUZZ_SEED");
        var logs = new ErrorLogCapture();
        await using var host = await TestServerHost.StartInProcessAsync(
            new()
            {
                // Coverage of the frame handling, not of the flood limit (which has its own tests).
                ["Brummerq:MaxFramesPerSecond"] = "1000000",
                ["Brummerq:Queue:SweepInterval"] = "3600",
            },
            b => b.Logging.AddProvider(logs));
        using var http = host.CreateHttpClient();
        await using var mcp = await McpTestClient.ConnectAsync(host);
        using var rawMcp = await RawMcpSession.StartAsync(host);
        var ledger = new FuzzLedger();
        var clock = Stopwatch.StartNew();
        await using (var target = new FuzzTarget(host, http, mcp, rawMcp, ledger))
        {
            await FuzzGenerators.Any.SampleAsync(target.RunAsync, writeLine: TestContext.Current.SendDiagnosticMessage, seed: seed, iter: iterations, threads: 1, print: input => input.ToString());
        }

        var fuzzSeconds = clock.Elapsed.TotalSeconds;
        Assert.True(logs.Entries.Count == 0, "logged at Error or above:\n" + string.Join('\n', logs.Entries.Take(5)));
        var drained = await VerifyEveryAckReadableAsync(host, http, mcp, rawMcp, ledger);
        Assert.True(logs.Entries.Count == 0, "logged at Error or above while reading back:\n" + string.Join('\n', logs.Entries.Take(5)));
        var summary = $"fuzz: {iterations} inputs in {fuzzSeconds:F1} s; " +
            $"acked {ledger.Acked.Count}, read back and drained {drained}; {ledger.Summary()}";
        TestContext.Current.SendDiagnosticMessage(summary);
        TestContext.Current.TestOutputHelper?.WriteLine(summary);
        if (Environment.GetEnvironmentVariable("BRUMMERQ_FUZZ_REPORT") is { Length: > 0 } path)
        {
            await File.WriteAllTextAsync(path, summary + "\n", TestContext.Current.CancellationToken);
        }
    }

    /// <summary>
    /// Checks the stats against the ledger, then reads every retained message through a WebSocket
    /// subscription with <c>since_seq: 0</c>, peeks it over HTTP, MCP and the WebSocket, consumes it
    /// through each face in turn, and checks all agree. Returns the number of messages drained.
    /// </summary>
    private static async Task<long> VerifyEveryAckReadableAsync(TestServerHost host, HttpClient http, ModelContextProtocol.Client.McpClient mcp, RawMcpSession rawMcp, FuzzLedger ledger)
    {
        var stats = await mcp.CallOkAsync("queue_stats");
        var httpStats = JsonDocument.Parse(await http.GetStringAsync("/api/stats", TestContext.Current.CancellationToken), FuzzTarget.ReplyParsing).RootElement;
        Assert.Equal(stats.GetProperty("messages_sent").GetInt64(), httpStats.GetProperty("messages_sent").GetInt64());
        Assert.Equal(ledger.Acked.Count, stats.GetProperty("messages_sent").GetInt64());
        Assert.Equal(0, stats.GetProperty("messages_expired").GetInt64());
        var ackedByChannel = ledger.Acked.GroupBy(a => a.Value, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Select(a => a.Key).ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);
        var statsChannels = stats.GetProperty("channels");
        long drained = 0;
        await using var reader = await ReadbackSocket.OpenAsync(host);
        foreach (var (channel, acked) in ackedByChannel)
        {
            var figures = statsChannels.GetProperty(channel);
            var retained = figures.GetProperty("messages").GetInt64();
            Assert.Equal(acked.Count, figures.GetProperty("sent").GetInt64());
            Assert.Equal(acked.Count, retained + figures.GetProperty("consumed").GetInt64() + figures.GetProperty("dropped").GetInt64());

            var all = await reader.SubscribeFromStartAsync(channel, retained);
            var deep = ledger.DeepChannels.ContainsKey(channel);
            Assert.All(all, m => Assert.Contains(m.GetProperty("id").GetString()!, acked));
            var gone = acked.Except(all.Select(m => m.GetProperty("id").GetString()!)).Where(id => !ledger.HandedOver.ContainsKey(id)).ToList();
            Assert.True(gone.Count == 0, $"{channel}: acknowledged, never read, and not retained: {string.Join(", ", gone.Take(5))}");

            for (var at = 0; at < all.Count; at += 1000)
            {
                var next = all.Skip(at).Take(1000).ToList();
                // Escaped, '/' as %2F: a channel such as "../x" is valid, and an HTTP client would resolve its dot segment.
                var path = $"/api/channels/{Uri.EscapeDataString(channel)}/messages?limit=1000";
                AssertSame(next, await HttpReadAsync(http, path + "&peek=true"), $"{channel}: HTTP peek");
                AssertSame(next, await McpReceiveAsync(mcp, rawMcp, deep, $$"""{"channel":{{JsonSerializer.Serialize(channel)}},"limit":1000,"peek":true}"""), $"{channel}: MCP peek");
                AssertSame(next, await reader.ReceiveAsync(channel, peek: true), $"{channel}: WebSocket peek");
                var consumed = (at / 1000 % 3) switch
                {
                    0 => await HttpReadAsync(http, path),
                    1 => await McpReceiveAsync(mcp, rawMcp, deep, $$"""{"channel":{{JsonSerializer.Serialize(channel)}},"limit":1000}"""),
                    _ => await reader.ReceiveAsync(channel, peek: false),
                };
                AssertSame(next, consumed, $"{channel}: consumed");
                drained += consumed.Count;
            }

            Assert.Empty(await HttpReadAsync(http, $"/api/channels/{Uri.EscapeDataString(channel)}/messages?peek=true"));
        }

        var after = await mcp.CallOkAsync("queue_stats");
        Assert.Equal(0, after.GetProperty("total_messages").GetInt64());
        Assert.Equal(ledger.Acked.Count, after.GetProperty("messages_sent").GetInt64());
        return drained;
    }

    private static void AssertSame(List<JsonElement> expected, List<JsonElement> actual, string what)
    {
        Assert.True(expected.Count == actual.Count, $"{what}: {actual.Count} messages, expected {expected.Count}");
        for (var i = 0; i < expected.Count; i++)
        {
            var (e, a) = (expected[i], actual[i]);
            var (ep, ap) = (e.GetProperty("payload"), a.GetProperty("payload"));

            // The same bytes first: DeepEquals throws on a number whose exponent does not fit an int (1e99999999999 is valid JSON).
            Assert.True(
                e.GetProperty("id").GetString() == a.GetProperty("id").GetString() && (ep.GetRawText() == ap.GetRawText() || JsonElement.DeepEquals(ep, ap)),
                $"{what}: message {i} differs:\n{Shorten(e)}\n{Shorten(a)}");
        }
    }

    private static string Shorten(JsonElement e)
    {
        var text = e.GetRawText();
        return text.Length > 400 ? text[..400] + "…" : text;
    }

    private static async Task<List<JsonElement>> HttpReadAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {body}");
        var json = JsonDocument.Parse(body, FuzzTarget.ReplyParsing).RootElement;
        return [.. json.GetProperty("messages").EnumerateArray().Select(m => m.Clone())];
    }

    /// <summary>A <c>queue_receive</c> over MCP: through the SDK's client, or by hand when the channel may hold a payload too deep for it (<see cref="FuzzTarget.SdkClientPayloadDepth"/>).</summary>
    private static async Task<List<JsonElement>> McpReceiveAsync(ModelContextProtocol.Client.McpClient mcp, RawMcpSession rawMcp, bool deep, string arguments)
    {
        if (!deep)
        {
            return [.. (await mcp.CallOkAsync("queue_receive", arguments)).GetProperty("messages").EnumerateArray().Select(m => m.Clone())];
        }

        var result = (await rawMcp.CallAsync("queue_receive", arguments)).GetProperty("result");
        Assert.False(result.TryGetProperty("isError", out var isError) && isError.GetBoolean(), result.ToString());
        return [.. result.GetProperty("structuredContent").GetProperty("messages").EnumerateArray().Select(m => m.Clone())];
    }

    /// <summary>One WebSocket for the read-back: a subscription that replays a channel from the start, and receives.</summary>
    private sealed class ReadbackSocket : IAsyncDisposable
    {
        private readonly WebSocket _socket;
        private readonly byte[] _buffer = new byte[64 << 20];
        private int _next;

        private ReadbackSocket(WebSocket socket) => _socket = socket;

        public static async Task<ReadbackSocket> OpenAsync(TestServerHost host)
        {
            var socket = await host.TestServer!.CreateWebSocketClient().ConnectAsync(new Uri("ws://localhost/__brummer_ws__"), TestContext.Current.CancellationToken);
            var reader = new ReadbackSocket(socket);
            Assert.Equal("connected", (await reader.NextAsync()).GetProperty("type").GetString());
            return reader;
        }

        /// <summary>Subscribes with <c>since_seq: 0</c>, reads the <paramref name="count"/> replayed messages, and unsubscribes.</summary>
        public async Task<List<JsonElement>> SubscribeFromStartAsync(string channel, long count)
        {
            var id = Request("queue_subscribe", $$"""{"channel":{{JsonSerializer.Serialize(channel)}},"since_seq":0,"buffer_size":10000}""");
            await SendAsync(id.Frame);
            var subscribed = await NextAsync();
            Assert.True(subscribed.GetProperty("type").GetString() == "subscribed", subscribed.ToString());
            var subscription = subscribed.GetProperty("data").GetProperty("subscription_id").GetString()!;
            var messages = new List<JsonElement>();
            while (messages.Count < count)
            {
                var push = await NextAsync();
                Assert.True(push.GetProperty("type").GetString() == "queue_message", push.ToString());
                Assert.False(push.GetProperty("data").TryGetProperty("dropped", out _), $"{channel}: the replay dropped messages");
                messages.Add(push.GetProperty("data").GetProperty("message").Clone());
            }

            var unsubscribe = Request("queue_unsubscribe", $$"""{"subscription_id":"{{subscription}}"}""");
            await SendAsync(unsubscribe.Frame);
            Assert.Equal("unsubscribed", (await NextAsync()).GetProperty("type").GetString());
            return messages;
        }

        public async Task<List<JsonElement>> ReceiveAsync(string channel, bool peek)
        {
            var request = Request("queue_receive", $$"""{"channel":{{JsonSerializer.Serialize(channel)}},"limit":1000,"peek":{{(peek ? "true" : "false")}}}""");
            await SendAsync(request.Frame);
            var reply = await NextAsync();
            Assert.True(reply.GetProperty("type").GetString() == "messages" && reply.GetProperty("id").GetString() == request.Id, reply.ToString());
            return [.. reply.GetProperty("data").GetProperty("messages").EnumerateArray().Select(m => m.Clone())];
        }

        public async ValueTask DisposeAsync()
        {
            await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, TestContext.Current.CancellationToken);
            _socket.Dispose();
        }

        private (string Id, string Frame) Request(string type, string data)
        {
            var id = $"rb-{++_next}";
            return (id, $$"""{"type":"{{type}}","id":"{{id}}","data":{{data}}}""");
        }

        private Task SendAsync(string frame) =>
            _socket.SendAsync(Encoding.UTF8.GetBytes(frame), WebSocketMessageType.Text, true, TestContext.Current.CancellationToken);

        private async Task<JsonElement> NextAsync()
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            var count = 0;
            while (true)
            {
                var result = await _socket.ReceiveAsync(_buffer.AsMemory(count), timeout.Token);
                Assert.NotEqual(WebSocketMessageType.Close, result.MessageType);
                count += result.Count;
                if (result.EndOfMessage)
                {
                    return JsonDocument.Parse(_buffer.AsMemory(0, count), FuzzTarget.ReplyParsing).RootElement.Clone();
                }
            }
        }
    }
}
