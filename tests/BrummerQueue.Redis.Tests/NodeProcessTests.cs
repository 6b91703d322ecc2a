using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using BrummerQueue.Server.Tests.Mcp;
using ModelContextProtocol.Client;

namespace BrummerQueue.Redis.Tests;

/// <summary>
/// Real <c>brummerq</c> processes on the Redis store (SPEC.md §6, issue 12 point 5): each test has its own
/// redis-server (it may stop and restart it), and every process is stopped by its pid.
/// </summary>
public sealed class NodeProcessTests : IAsyncDisposable
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(60);
    private readonly RedisServerFixture _redis = new();
    private readonly List<Process> _processes = [];
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Serve_RedisUnreachable_OneLineOnStderrAndExitOne()
    {
        var redisPort = BrummerqProcess.FreePort();
        var process = BrummerqProcess.Start("serve", "--port", BrummerqProcess.FreePort().ToString(CultureInfo.InvariantCulture), "--store", "redis", "--redis", $"127.0.0.1:{redisPort},connectTimeout=10000"); // a refusal is at once; a short timeout may end the attempt first on a loaded machine
        _processes.Add(process);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct).WaitAsync(s_wait, Ct);
        Assert.Equal(1, process.ExitCode);
        var line = Assert.Single((await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal($"brummerq: cannot reach the Redis store (--redis, BRUMMERQ_REDIS): no connection to 127.0.0.1:{redisPort} (unable to connect: Connection refused)", line);
    }

    [Fact]
    public async Task Serve_RedisHostUnresolvable_OneShortLineNamingTheHost()
    {
        var process = BrummerqProcess.Start("serve", "--port", BrummerqProcess.FreePort().ToString(CultureInfo.InvariantCulture), "--store", "redis", "--redis", "nosuchhost.invalid:6379,connectTimeout=1000");
        _processes.Add(process);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct).WaitAsync(s_wait, Ct);
        Assert.Equal(1, process.ExitCode);
        var line = Assert.Single((await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries));

        // The resolver's own words follow "unable to connect: " (e.g. "Name or service not known"); the client's diagnostic does not.
        Assert.Matches(@"^brummerq: cannot reach the Redis store \(--redis, BRUMMERQ_REDIS\): no connection to nosuchhost\.invalid:6379 \(unable to connect: [^()]+\)$", line);
    }

    [Fact]
    public async Task Serve_StoreRedisWithoutRedis_NamesTheSetting()
    {
        var process = BrummerqProcess.StartWith(null, new Dictionary<string, string> { ["BRUMMERQ_STORE"] = "redis" }, "serve", "--port", BrummerqProcess.FreePort().ToString(CultureInfo.InvariantCulture));
        _processes.Add(process);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct).WaitAsync(s_wait, Ct);
        Assert.Equal(2, process.ExitCode);
        Assert.Contains("needs the Redis to use: --redis HOST:PORT or BRUMMERQ_REDIS", await stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TwoNodes_WebSocketOnOne_McpSendsOnTheOther_PushesInSeqOrderAndEqualStats()
    {
        await StartRedisAsync();
        var servePort = BrummerqProcess.FreePort();
        StartServe(servePort);
        var mcpPort = BrummerqProcess.FreePort();
        await using var mcp = await BrummerqProcess.ConnectStdioAsync(mcpPort, arguments: ["--store", "redis", "--redis", _redis.Configuration]);
        await WaitHealthyAsync(servePort);

        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{servePort}/__brummer_ws__"), Ct);
        Assert.Equal("connected", (await ReadFrameAsync(socket)).GetProperty("type").GetString());
        await SendFrameAsync(socket, """{"type":"queue_subscribe","id":"s","data":{"channel":"chat"}}""");
        Assert.Equal("subscribed", (await ReadFrameAsync(socket)).GetProperty("type").GetString());

        for (var i = 1; i <= 20; i++)
        {
            var result = await mcp.CallToolAsync("queue_send", new Dictionary<string, object?> { ["channel"] = "chat", ["payload"] = i }, cancellationToken: Ct);
            Assert.NotEqual(true, result.IsError);
        }

        for (var i = 1; i <= 20; i++)
        {
            var push = await ReadFrameAsync(socket);
            Assert.Equal("queue_message", push.GetProperty("type").GetString());
            var message = push.GetProperty("data").GetProperty("message");
            Assert.Equal(i, message.GetProperty("seq").GetInt64());
            Assert.Equal(i, message.GetProperty("payload").GetInt32());
        }

        var fromServe = await _http.GetStringAsync($"http://127.0.0.1:{servePort}/api/channels", Ct);
        var fromMcp = await _http.GetStringAsync($"http://127.0.0.1:{mcpPort}/api/channels", Ct);
        Assert.Equal(fromServe, fromMcp);
        Assert.Contains("\"last_seq\":20", fromServe, StringComparison.Ordinal);

        // The dashboard's figures: the 20 copies the WebSocket's subscription got and the subscription itself, on both nodes.
        foreach (var port in new[] { servePort, mcpPort })
        {
            var stats = await _http.GetFromJsonAsync<JsonElement>($"http://127.0.0.1:{port}/api/stats", Ct);
            Assert.Equal(20, stats.GetProperty("messages_delivered").GetInt64());
            Assert.Equal(20, stats.GetProperty("channels").GetProperty("chat").GetProperty("delivered").GetInt64());
            var subscription = Assert.Single(stats.GetProperty("subscriptions").EnumerateArray());
            Assert.Equal("chat", subscription.GetProperty("channel").GetString());
        }
    }

    [Fact]
    public async Task ResourceSubscribeOnOneNode_SendOnTheOther_GetsResourceUpdated()
    {
        await StartRedisAsync();
        var servePort = BrummerqProcess.FreePort();
        StartServe(servePort);
        var mcpPort = BrummerqProcess.FreePort();
        await using var mcp = await BrummerqProcess.ConnectStdioAsync(mcpPort, arguments: ["--store", "redis", "--redis", _redis.Configuration]);
        await WaitHealthyAsync(servePort);
        var updated = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var watch = await mcp.SubscribeToResourceAsync(
            "brummerq://channels/news",
            (notification, _) =>
            {
                updated.TrySetResult(notification.Uri);
                return ValueTask.CompletedTask;
            },
            cancellationToken: Ct);

        var response = await _http.PostAsJsonAsync($"http://127.0.0.1:{servePort}/api/channels/news/messages", new { payload = 1 }, Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("brummerq://channels/news", await updated.Task.WaitAsync(s_wait, Ct));
    }

    [Fact]
    public async Task RedisStopped_MetricsAnswerWithoutQueueFiguresAndStatsAnswer503()
    {
        await StartRedisAsync();
        var port = BrummerqProcess.FreePort();
        StartServe(port);
        await WaitHealthyAsync(port);
        var before = await _http.GetStringAsync($"http://127.0.0.1:{port}/metrics", Ct);
        Assert.Contains("brummerq_messages_sent", before, StringComparison.Ordinal);

        await _redis.StopAsync();
        (await PollAsync(port, HttpStatusCode.ServiceUnavailable)).Dispose();

        // The snapshot of the last second may still be served once; the one after it is taken while Redis is down.
        string metrics;
        var deadline = DateTime.UtcNow + s_wait;
        do
        {
            using var scrape = await _http.GetAsync($"http://127.0.0.1:{port}/metrics", Ct);
            Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
            metrics = await scrape.Content.ReadAsStringAsync(Ct);
            Assert.True(DateTime.UtcNow < deadline, "/metrics kept its queue figures with Redis stopped");
        }
        while (metrics.Contains("brummerq_messages_sent", StringComparison.Ordinal) && await DelayAsync());

        Assert.Contains("brummerq_websocket_connections", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain("brummerq_channels", metrics, StringComparison.Ordinal);

        using var stats = await _http.GetAsync($"http://127.0.0.1:{port}/api/stats", Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, stats.StatusCode);
        Assert.Contains("\"code\":\"store_unavailable\"", await stats.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SubscribeStormAtStart_EveryOneSubscribed()
    {
        await StartRedisAsync();
        var port = BrummerqProcess.FreePort();
        StartServe(port);
        await WaitHealthyAsync(port);

        // Every client of a restarted node subscribing again at once, at a fresh node: a subscribe is a synchronous store
        // call that holds a pool thread for its round trip; on a pool of two threads that grows slowly, the Redis client
        // found no thread to read the replies that would release them (5 s timeouts: 32 of 100 store_unavailable).
        const int Clients = 20;
        const int Subscribes = 5;
        var sockets = new List<ClientWebSocket>();
        try
        {
            for (var c = 0; c < Clients; c++)
            {
                var socket = new ClientWebSocket();
                sockets.Add(socket);
                await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/__brummer_ws__"), Ct);
                Assert.Equal("connected", (await ReadFrameAsync(socket)).GetProperty("type").GetString());
            }

            var replies = await Task.WhenAll(sockets.Select(async (socket, c) =>
            {
                for (var i = 0; i < Subscribes; i++)
                {
                    await SendFrameAsync(socket, "{\"type\":\"queue_subscribe\",\"id\":\"" + i + "\",\"data\":{\"channel\":\"storm." + c + "." + i + "\"}}");
                }

                var types = new List<string>();
                for (var i = 0; i < Subscribes; i++)
                {
                    var frame = await ReadFrameAsync(socket);
                    types.Add(frame.GetProperty("type").GetString() + " " + frame.GetRawText());
                }

                return types;
            }));

            Assert.All(replies.SelectMany(r => r), reply => Assert.StartsWith("subscribed ", reply, StringComparison.Ordinal));
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }
    }

    [Fact]
    public async Task BurstOfWebSocketSendsAtStart_EveryOneAcknowledged()
    {
        await StartRedisAsync();
        var port = BrummerqProcess.FreePort();
        StartServe(port);
        await WaitHealthyAsync(port);

        // More publishers than the pool has threads at start, each with sends outstanding, on a node with the default
        // pool: a send that blocked a pool thread for its round trip (before IMessageQueue.SendAsync) left no thread to
        // read Redis's replies (5 s timeouts); an awaited send holds none.
        const int Publishers = 16;
        const int Sends = 20;
        var sockets = new List<ClientWebSocket>();
        try
        {
            for (var p = 0; p < Publishers; p++)
            {
                var socket = new ClientWebSocket();
                sockets.Add(socket);
                await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/__brummer_ws__"), Ct);
                Assert.Equal("connected", (await ReadFrameAsync(socket)).GetProperty("type").GetString());
            }

            var replies = await Task.WhenAll(sockets.Select(async socket =>
            {
                for (var i = 0; i < Sends; i++)
                {
                    await SendFrameAsync(socket, "{\"type\":\"queue_message\",\"id\":\"" + i + "\",\"data\":{\"channel\":\"burst\",\"payload\":" + i + "}}");
                }

                var types = new List<string>();
                for (var i = 0; i < Sends; i++)
                {
                    var frame = await ReadFrameAsync(socket);
                    types.Add(frame.GetProperty("type").GetString() + " " + frame.GetRawText());
                }

                return types;
            }));

            Assert.All(replies.SelectMany(r => r), reply => Assert.StartsWith("ack ", reply, StringComparison.Ordinal));

            // Sends of one socket are stored one at a time in arrival order (docs/protocol.md), though each is awaited:
            // the acks come in the order sent, with increasing seqs.
            foreach (var socketReplies in replies)
            {
                var acks = socketReplies.Select(r => JsonDocument.Parse(r["ack ".Length..]).RootElement).ToList();
                Assert.Equal(Enumerable.Range(0, Sends).Select(i => i.ToString(CultureInfo.InvariantCulture)), acks.Select(a => a.GetProperty("id").GetString()));
                var seqs = acks.Select(a => a.GetProperty("data").GetProperty("seq").GetInt64()).ToList();
                Assert.Equal(seqs.Order(), seqs);
                Assert.Equal(Sends, seqs.Distinct().Count());
            }
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }
    }

    [Fact]
    public async Task McpSessionOfOneNode_SentToTheOther_404NamesTheLoadBalancer()
    {
        await StartRedisAsync();
        var portA = BrummerqProcess.FreePort();
        var portB = BrummerqProcess.FreePort();
        StartServe(portA);
        StartServe(portB);
        await WaitHealthyAsync(portA);
        await WaitHealthyAsync(portB);

        using var initialize = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{portA}/mcp")
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}""", Encoding.UTF8, "application/json"),
        };
        initialize.Headers.Accept.ParseAdd("application/json");
        initialize.Headers.Accept.ParseAdd("text/event-stream");
        using var made = await _http.SendAsync(initialize, Ct);
        Assert.Equal(HttpStatusCode.OK, made.StatusCode);
        var session = Assert.Single(made.Headers.GetValues("Mcp-Session-Id"));

        using var elsewhere = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{portB}/mcp")
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":2,"method":"tools/list"}""", Encoding.UTF8, "application/json"),
        };
        elsewhere.Headers.Accept.ParseAdd("application/json");
        elsewhere.Headers.Accept.ParseAdd("text/event-stream");
        elsewhere.Headers.Add("Mcp-Session-Id", session);
        using var refused = await _http.SendAsync(elsewhere, Ct);
        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        var error = JsonDocument.Parse(await refused.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("error");
        Assert.Equal(-32001, error.GetProperty("code").GetInt32());
        Assert.Contains("another brummerq node", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RedisRestartedWithoutPersistence_NodeSaysStoreUnavailableThenReconnectsWithNewEpochs()
    {
        await StartRedisAsync();
        var port = BrummerqProcess.FreePort();
        StartServe(port);
        await WaitHealthyAsync(port);
        var api = $"http://127.0.0.1:{port}/api/channels/c/messages";
        Assert.Equal(HttpStatusCode.Created, (await _http.PostAsJsonAsync(api, new { payload = 1 }, Ct)).StatusCode);

        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/__brummer_ws__"), Ct);
        Assert.Equal("connected", (await ReadFrameAsync(socket)).GetProperty("type").GetString());

        await _redis.StopAsync();
        using (var health = await PollAsync(port, HttpStatusCode.ServiceUnavailable))
        {
            var body = await health.Content.ReadAsStringAsync(Ct);
            Assert.Contains("\"status\":\"store_unavailable\"", body, StringComparison.Ordinal);
            Assert.Contains($"\"reason\":\"the Redis store at 127.0.0.1:{_redis.Port} is not connected", body, StringComparison.Ordinal);
        }

        using (var refused = await _http.PostAsJsonAsync(api, new { payload = 2 }, Ct))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            var problem = await refused.Content.ReadFromJsonAsync<JsonElement>(Ct);
            Assert.Equal("store_unavailable", problem.GetProperty("code").GetString());

            // Short, naming the Redis; the client's diagnostic stays in the node's log.
            var detail = problem.GetProperty("detail").GetString()!;
            Assert.StartsWith($"store_unavailable: the Redis store at 127.0.0.1:{_redis.Port} is not connected", detail, StringComparison.Ordinal);
            Assert.EndsWith("; nothing was done. The node reconnects by itself: retry shortly", detail, StringComparison.Ordinal);
            Assert.True(detail.Length < 300, detail);
        }

        await SendFrameAsync(socket, """{"type":"queue_message","id":"m1","data":{"channel":"c","payload":2}}""");
        var error = await ReadFrameAsync(socket);
        Assert.Equal(("error", "m1"), (error.GetProperty("type").GetString(), error.GetProperty("id").GetString()));
        Assert.Equal("store_unavailable", error.GetProperty("data").GetProperty("code").GetString());

        using (var stats = await _http.GetAsync($"http://127.0.0.1:{port}/api/stats", Ct))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, stats.StatusCode);
            Assert.Contains("\"code\":\"store_unavailable\"", await stats.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }

        await _redis.StartAsync();
        (await PollAsync(port, HttpStatusCode.OK)).Dispose();

        // Redis came back empty (no persistence): the channel starts again at seq 1 in a new incarnation.
        using var sent = await _http.PostAsJsonAsync(api, new { payload = 3 }, Ct);
        Assert.Equal(HttpStatusCode.Created, sent.StatusCode);
        Assert.Equal(1, (await sent.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("message").GetProperty("seq").GetInt64());
    }

    [Fact]
    public async Task NodeKilledDuringTraffic_EveryAcknowledgedSendIsReadFromTheOtherNode()
    {
        await StartRedisAsync();
        var survivorPort = BrummerqProcess.FreePort();
        StartServe(survivorPort);
        var victimPort = BrummerqProcess.FreePort();
        var victim = StartServe(victimPort);
        await WaitHealthyAsync(survivorPort);
        await WaitHealthyAsync(victimPort);

        var acknowledged = new List<long>();
        for (var i = 0; i < 40; i++)
        {
            if (i == 20)
            {
                victim.Kill(entireProcessTree: true);
                await victim.WaitForExitAsync(Ct).WaitAsync(s_wait, Ct);
            }

            try
            {
                using var sent = await _http.PostAsJsonAsync($"http://127.0.0.1:{victimPort}/api/channels/c/messages", new { payload = i }, Ct);
                Assert.Equal(HttpStatusCode.Created, sent.StatusCode);
                acknowledged.Add((await sent.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("message").GetProperty("seq").GetInt64());
            }
            catch (HttpRequestException) when (i >= 20)
            {
                // The node is gone: this send was never acknowledged.
            }
        }

        Assert.Equal(20, acknowledged.Count);
        var received = await _http.GetFromJsonAsync<JsonElement>($"http://127.0.0.1:{survivorPort}/api/channels/c/messages?limit=1000", Ct);
        Assert.Equal(acknowledged, received.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("seq").GetInt64()));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync().WaitAsync(s_wait);
            }

            process.Dispose();
        }

        _http.Dispose();
        await _redis.DisposeAsync();
    }

    private async Task StartRedisAsync()
    {
        await _redis.InitializeAsync();
        _redis.RequireServer();
    }

    private Process StartServe(int port)
    {
        var process = BrummerqProcess.Start("serve", "--port", port.ToString(CultureInfo.InvariantCulture), "--store", "redis", "--redis", _redis.Configuration);
        _processes.Add(process);
        _ = process.StandardOutput.ReadToEndAsync(Ct);
        _ = process.StandardError.ReadToEndAsync(Ct);
        return process;
    }

    private async Task WaitHealthyAsync(int port) => (await PollAsync(port, HttpStatusCode.OK)).Dispose();

    /// <summary>Asks /healthz until it answers <paramref name="status"/>; bounded by <see cref="s_wait"/>, one try per 100 ms.</summary>
    private async Task<HttpResponseMessage> PollAsync(int port, HttpStatusCode status)
    {
        var deadline = DateTime.UtcNow + s_wait;
        while (true)
        {
            try
            {
                var response = await _http.GetAsync($"http://127.0.0.1:{port}/healthz", Ct);
                if (response.StatusCode == status)
                {
                    return response;
                }

                response.Dispose();
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
            }

            Assert.True(DateTime.UtcNow < deadline, $"/healthz on port {port} did not answer {status} within {s_wait}");
            await Task.Delay(100, Ct);
        }
    }

    private static async Task<bool> DelayAsync()
    {
        await Task.Delay(200, Ct);
        return true;
    }

    private static Task SendFrameAsync(ClientWebSocket socket, string json) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, endOfMessage: true, Ct);

    private static async Task<JsonElement> ReadFrameAsync(ClientWebSocket socket)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(s_wait);
        var buffer = new byte[64 * 1024];
        using var frame = new MemoryStream();
        while (true)
        {
            var read = await socket.ReceiveAsync(buffer, timeout.Token);
            frame.Write(buffer, 0, read.Count);
            if (read.EndOfMessage)
            {
                return JsonDocument.Parse(frame.ToArray()).RootElement.Clone();
            }
        }
    }
}
