using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using BrummerQueue.Server.Tests.Mcp;
using StackExchange.Redis;

namespace BrummerQueue.Redis.Tests;

/// <summary>
/// Pipelined sends (docs/protocol.md "Pipelined sends") through a real node on the Redis store, where a send is still
/// under way when the next frame comes: a socket's consecutive sends to one channel are started without waiting, acked
/// in the order sent, and batched into few send scripts; anything else waits for them. Each test has its own redis-server,
/// so its script count is the node's alone.
/// </summary>
public sealed class WebSocketPipelineTests : IAsyncDisposable
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(60);
    private readonly RedisServerFixture _redis = new();
    private readonly List<Process> _processes = [];
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PipelinedSends_OneSocketOneChannel_AckedInOrderAndStoredInFewerScriptsThanSends()
    {
        using var socket = await ConnectAsync();
        const int Sends = 200;
        var before = await ScriptCallsAsync();

        for (var i = 0; i < Sends; i++)
        {
            await SendFrameAsync(socket, Send(i, "p"));
        }

        var replies = await ReadFramesAsync(socket, Sends);
        var scripts = await ScriptCallsAsync() - before;

        Assert.All(replies, r => Assert.Equal("ack", r.GetProperty("type").GetString()));
        Assert.Equal(Enumerable.Range(0, Sends).Select(i => i.ToString(CultureInfo.InvariantCulture)), replies.Select(r => r.GetProperty("id").GetString()));
        Assert.Equal(Enumerable.Range(1, Sends).Select(i => (long)i), replies.Select(r => r.GetProperty("data").GetProperty("seq").GetInt64()));

        // One script per send if each waited for the one before; the store batches the sends under way at once.
        Assert.True(scripts < Sends / 2, $"{scripts} script calls for {Sends} pipelined sends");
    }

    [Fact]
    public async Task PipelinedSends_ThenAReceiveOfTheChannel_TheReceiveComesAfterAllAcksAndSeesEverySend()
    {
        using var socket = await ConnectAsync();
        for (var i = 0; i < 50; i++)
        {
            await SendFrameAsync(socket, Send(i, "r"));
        }

        await SendFrameAsync(socket, """{"type":"queue_receive","id":"take","data":{"channel":"r","limit":100}}""");

        var replies = await ReadFramesAsync(socket, 51);
        Assert.All(replies[..50], r => Assert.Equal("ack", r.GetProperty("type").GetString()));
        var messages = replies[50];
        Assert.Equal(("messages", "take", 50), (messages.GetProperty("type").GetString(), messages.GetProperty("id").GetString(), messages.GetProperty("data").GetProperty("count").GetInt32()));
        Assert.Equal(Enumerable.Range(0, 50), messages.GetProperty("data").GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("payload").GetInt32()));
    }

    [Fact]
    public async Task PipelinedSends_OneFailsACheck_ItsErrorComesInItsPlaceAndTheRestAreStored()
    {
        using var socket = await ConnectAsync();
        for (var i = 0; i < 10; i++)
        {
            await SendFrameAsync(socket, i == 5
                ? """{"type":"queue_message","id":"5","data":{"channel":"e","payload":5,"ttl":-1}}"""
                : Send(i, "e"));
        }

        var replies = await ReadFramesAsync(socket, 10);

        Assert.Equal(Enumerable.Range(0, 10).Select(i => i.ToString(CultureInfo.InvariantCulture)), replies.Select(r => r.GetProperty("id").GetString()));
        Assert.Equal(Enumerable.Repeat("ack", 5).Append("error").Concat(Enumerable.Repeat("ack", 4)), replies.Select(r => r.GetProperty("type").GetString()));
        Assert.Equal("ttl", replies[5].GetProperty("data").GetProperty("field").GetString());
        Assert.Equal(Enumerable.Range(1, 9).Select(i => (long)i), replies.Where(r => r.GetProperty("type").GetString() == "ack").Select(r => r.GetProperty("data").GetProperty("seq").GetInt64()));
    }

    [Fact]
    public async Task PipelinedSends_ABinaryFrameAmongThem_ItsErrorComesAfterTheAcksBeforeIt()
    {
        using var socket = await ConnectAsync();
        for (var i = 0; i < 10; i++)
        {
            if (i == 5)
            {
                await socket.SendAsync("binary"u8.ToArray(), WebSocketMessageType.Binary, endOfMessage: true, Ct);
            }

            await SendFrameAsync(socket, Send(i, "bin"));
        }

        var replies = await ReadFramesAsync(socket, 11);

        Assert.Equal(Enumerable.Repeat("ack", 5).Append("error").Concat(Enumerable.Repeat("ack", 5)), replies.Select(r => r.GetProperty("type").GetString()));
        Assert.Equal("invalid_json", replies[5].GetProperty("data").GetProperty("code").GetString());
    }

    [Fact]
    public async Task PipelinedSends_AlternatingBetweenTwoChannels_AckedInOrderWithEachChannelsSeqsInOrder()
    {
        using var socket = await ConnectAsync();
        for (var i = 0; i < 40; i++)
        {
            await SendFrameAsync(socket, Send(i, i % 2 == 0 ? "a" : "b"));
        }

        var replies = await ReadFramesAsync(socket, 40);

        Assert.Equal(Enumerable.Range(0, 40).Select(i => i.ToString(CultureInfo.InvariantCulture)), replies.Select(r => r.GetProperty("id").GetString()));
        foreach (var channel in new[] { "a", "b" })
        {
            var seqs = replies.Where(r => r.GetProperty("data").GetProperty("channel").GetString() == channel).Select(r => r.GetProperty("data").GetProperty("seq").GetInt64());
            Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), seqs);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None);
            }

            process.Dispose();
        }

        _http.Dispose();
        await _redis.DisposeAsync();
    }

    private static string Send(int i, string channel) =>
        "{\"type\":\"queue_message\",\"id\":\"" + i.ToString(CultureInfo.InvariantCulture) + "\",\"data\":{\"channel\":\"" + channel + "\",\"payload\":" + i.ToString(CultureInfo.InvariantCulture) + "}}";

    /// <summary>Starts a redis-server and a node on it, and connects a WebSocket to the node.</summary>
    private async Task<ClientWebSocket> ConnectAsync()
    {
        await _redis.InitializeAsync();
        _redis.RequireServer();
        var port = BrummerqProcess.FreePort();
        var process = BrummerqProcess.Start("serve", "--port", port.ToString(CultureInfo.InvariantCulture), "--store", "redis", "--redis", _redis.Configuration);
        _processes.Add(process);
        _ = process.StandardOutput.ReadToEndAsync(Ct);
        _ = process.StandardError.ReadToEndAsync(Ct);
        await WaitHealthyAsync(port);

        var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/__brummer_ws__"), Ct);
        Assert.Equal("connected", (await ReadFramesAsync(socket, 1))[0].GetProperty("type").GetString());
        return socket;
    }

    /// <summary>EVALSHA and EVAL calls the redis-server has run so far (INFO commandstats).</summary>
    private async Task<long> ScriptCallsAsync()
    {
        await using var admin = await ConnectionMultiplexer.ConnectAsync(_redis.Configuration + ",allowAdmin=true");
        var info = await admin.GetServers()[0].InfoAsync("commandstats");
        return info.SelectMany(g => g).Where(p => p.Key is "cmdstat_evalsha" or "cmdstat_eval")
            .Sum(p => long.Parse(p.Value.Split(',')[0]["calls=".Length..], CultureInfo.InvariantCulture));
    }

    /// <summary>Asks /healthz until it answers 200; bounded by <see cref="s_wait"/>, one try per 100 ms.</summary>
    private async Task WaitHealthyAsync(int port)
    {
        var deadline = DateTime.UtcNow + s_wait;
        while (true)
        {
            try
            {
                using var response = await _http.GetAsync($"http://127.0.0.1:{port}/healthz", Ct);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
            }

            Assert.True(DateTime.UtcNow < deadline, $"/healthz on port {port} did not answer 200 within {s_wait}");
            await Task.Delay(100, Ct);
        }
    }

    private static Task SendFrameAsync(ClientWebSocket socket, string json) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, endOfMessage: true, Ct);

    private static async Task<List<JsonElement>> ReadFramesAsync(ClientWebSocket socket, int count)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(s_wait);
        var frames = new List<JsonElement>();
        var buffer = new byte[64 * 1024];
        using var frame = new MemoryStream();
        while (frames.Count < count)
        {
            var read = await socket.ReceiveAsync(buffer, timeout.Token);
            frame.Write(buffer, 0, read.Count);
            if (read.EndOfMessage)
            {
                frames.Add(JsonDocument.Parse(frame.ToArray()).RootElement.Clone());
                frame.SetLength(0);
            }
        }

        return frames;
    }
}
