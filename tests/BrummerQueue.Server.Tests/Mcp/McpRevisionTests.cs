using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using BrummerQueue.Server.Mcp;
using BrummerQueue.Server.Tests.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace BrummerQueue.Server.Tests.Mcp;

/// <summary>
/// Every MCP revision the SDK speaks, with the official C# SDK client pinned to each: over Streamable HTTP, over stdio
/// (the real <c>brummerq mcp</c> process) and through attach mode; sessionless 2026-07-28 subscriptions and
/// <c>subscriptions/listen</c> push.
/// </summary>
public sealed class McpRevisionTests
{
    private const string Sessionless = "2026-07-28";

    public static TheoryData<string> Revisions => [.. ProtocolRevisions.All];

    [Theory]
    [MemberData(nameof(Revisions))]
    public async Task Connect_EachRevisionOverHttp_AnswersInItAndRunsTheSeedWorkflow(string revision)
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var assistant = await McpTestClient.ConnectAsync(host, protocolVersion: revision);

        var subscriptionId = await SeedWorkflowAsync(assistant, async () => (await TestSocket.ConnectAsync(host)).Socket);

        Assert.Equal(revision, assistant.NegotiatedProtocolVersion);
        Assert.True(host.Queue.TryGetSubscription(subscriptionId, out var subscription));
        if (revision == Sessionless)
        {
            Assert.Null(assistant.SessionId);
            Assert.Null(subscription.Owner);
        }
        else
        {
            Assert.Equal("mcp:" + assistant.SessionId, subscription.Owner);
        }
    }

    [Theory]
    [MemberData(nameof(Revisions))]
    public async Task Connect_EachRevisionOverStdio_AnswersInItAndRunsTheSeedWorkflow(string revision)
    {
        var port = BrummerqProcess.FreePort();
        var stderr = new List<string>();
        await using var assistant = await BrummerqProcess.ConnectStdioAsync(port, stderr, protocolVersion: revision);

        await SeedWorkflowAsync(assistant, () => TestSocket.ConnectAsync(new Uri($"http://127.0.0.1:{port}/")));

        Assert.Equal(revision, assistant.NegotiatedProtocolVersion);
        lock (stderr)
        {
            Assert.DoesNotContain(stderr, l => l.StartsWith("warn:", StringComparison.Ordinal) || l.StartsWith("fail:", StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("2024-11-05")]
    [InlineData(Sessionless)]
    public async Task Attach_OldestAndNewestRevision_ForwardsTheSeedWorkflowAndPush(string revision)
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();
        var stderr = new List<string>();
        await using var assistant = await BrummerqProcess.ConnectStdioAsync(host.BaseAddress.Port, stderr, protocolVersion: revision);

        var subscriptionId = await SeedWorkflowAsync(assistant, async () => (await TestSocket.ConnectAsync(host)).Socket);

        Assert.Equal(revision, assistant.NegotiatedProtocolVersion);
        lock (stderr)
        {
            Assert.Contains(stderr, l => l.Contains("Attached to the brummerq at", StringComparison.Ordinal));
            Assert.DoesNotContain(stderr, l => l.StartsWith("warn:", StringComparison.Ordinal) || l.StartsWith("fail:", StringComparison.Ordinal));
        }

        // The forwarding process keeps a session on the hosting server whatever its own client speaks: it owns the subscription.
        Assert.True(host.Queue.TryGetSubscription(subscriptionId, out var subscription));
        Assert.StartsWith("mcp:", subscription.Owner, StringComparison.Ordinal);
        await assistant.DisposeAsync();
        await McpToolsTests.WaitUntilAsync(() => host.Queue.GetStats().TotalSubscriptions == 0);
    }

    [Fact]
    public async Task Post_ProtocolVersionHeader20250326_IsAccepted()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var http = host.CreateHttpClient();

        using var initialize = await PostAsync(http, null, null, """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""");
        var answer = await ReadResultAsync(initialize);
        var session = initialize.Headers.GetValues(McpEndpointGuard.SessionHeader).Single();
        using var initialized = await PostAsync(http, session, "2025-03-26", """{"jsonrpc":"2.0","method":"notifications/initialized"}""");
        using var list = await PostAsync(http, session, "2025-03-26", """{"jsonrpc":"2.0","id":2,"method":"tools/list"}""");
        var tools = await ReadResultAsync(list);

        Assert.Equal("2025-03-26", answer.GetProperty("protocolVersion").GetString());
        Assert.Equal(HttpStatusCode.Accepted, initialized.StatusCode);
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.Contains(tools.GetProperty("tools").EnumerateArray(), t => t.GetProperty("name").GetString() == "queue_send");
    }

    [Theory]
    [InlineData("2024-01-01")]
    [InlineData("2099-01-01")]
    public async Task Initialize_UnknownRevision_AnswersTheNewestWithTheHandshake(string requested)
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var http = host.CreateHttpClient();

        var body = """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"REVISION","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""".Replace("REVISION", requested, StringComparison.Ordinal);
        using var initialize = await PostAsync(http, null, null, body);
        var answer = await ReadResultAsync(initialize);

        Assert.Equal(ProtocolRevisions.NewestWithSessions, answer.GetProperty("protocolVersion").GetString());
        Assert.Single(initialize.Headers.GetValues(McpEndpointGuard.SessionHeader));
    }

    [Fact]
    public async Task Subscribe_Sessionless_HasNoOwnerAndAnyRequestCanUnsubscribeButNotASessionsSubscription()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var first = await McpTestClient.ConnectAsync(host, protocolVersion: Sessionless);
        await using var second = await McpTestClient.ConnectAsync(host, protocolVersion: Sessionless);
        await using var withSession = await McpTestClient.ConnectAsync(host);
        var id = (await first.CallOkAsync("queue_subscribe", """{"channel":"nobody"}""")).GetProperty("subscription_id").GetString();
        var owned = (await withSession.CallOkAsync("queue_subscribe", """{"channel":"mine"}""")).GetProperty("subscription_id").GetString();

        Assert.True(host.Queue.TryGetSubscription(id!, out var subscription));
        Assert.Null(subscription.Owner);
        var read = await second.CallErrorAsync("queue_receive", $$"""{"subscription_id":"{{owned}}"}""");
        var close = await second.CallErrorAsync("queue_unsubscribe", $$"""{"subscription_id":"{{owned}}"}""");
        var unsubscribed = await second.CallOkAsync("queue_unsubscribe", $$"""{"subscription_id":"{{id}}"}""");

        Assert.True(unsubscribed.GetProperty("unsubscribed").GetBoolean());
        Assert.False(host.Queue.TryGetSubscription(id!, out _));
        Assert.Contains("belongs to another MCP session", read, StringComparison.Ordinal);
        Assert.Contains("belongs to another MCP session", close, StringComparison.Ordinal);
        Assert.True(host.Queue.TryGetSubscription(owned!, out _));
    }

    [Fact]
    public async Task Subscribe_Sessionless_EndsAfterTheIdleLimit()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await TestServerHost.StartInProcessAsync(
            new() { ["Brummerq:Queue:SubscriptionIdleTimeout"] = "60", ["Brummerq:Queue:SweepInterval"] = "1" },
            b => b.Services.AddSingleton<TimeProvider>(time));
        await using var client = await McpTestClient.ConnectAsync(host, protocolVersion: Sessionless);
        var id = (await client.CallOkAsync("queue_subscribe", """{"channel":"idle"}""")).GetProperty("subscription_id").GetString();
        Assert.True(host.Queue.TryGetSubscription(id!, out _));

        await McpToolsTests.WaitUntilAsync(() =>
        {
            time.Advance(TimeSpan.FromSeconds(30));
            return !host.Queue.TryGetSubscription(id!, out _);
        });
        var gone = await client.CallErrorAsync("queue_receive", $$"""{"subscription_id":"{{id}}"}""");

        Assert.Contains("does not exist", gone, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SubscriptionsListen_Sessionless_AcknowledgesKnownUrisAndPushesTaggedUpdatesUntilCancelled()
    {
        var logs = new LogCapture();
        await using var host = await TestServerHost.StartInProcessAsync(configure: logs.Install);
        await using var client = await McpTestClient.ConnectAsync(host, protocolVersion: Sessionless);
        var registry = host.Services.GetRequiredService<McpSessionRegistry>();
        var acknowledged = new TaskCompletionSource<JsonNode>(TaskCreationOptions.RunContinuationsAsynchronously);
        var updated = new TaskCompletionSource<JsonNode>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var onAck = client.RegisterNotificationHandler(NotificationMethods.SubscriptionsAcknowledgedNotification, (n, _) =>
        {
            acknowledged.TrySetResult(n.Params!);
            return default;
        });
        await using var onUpdate = client.RegisterNotificationHandler(NotificationMethods.ResourceUpdatedNotification, (n, _) =>
        {
            updated.TrySetResult(n.Params!);
            return default;
        });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

        var listen = Listen(client, ["brummerq://channels/events", "brummerq://subscriptions/no-such", "https://example.com/x"], stop.Token);
        var ack = await acknowledged.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        host.Queue.Send("other", default);
        host.Queue.Send("events", default);
        var update = await updated.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await listen);
        await McpToolsTests.WaitUntilAsync(() => registry.ListenerCount == 0);

        Assert.Equal(["brummerq://channels/events"], ack["notifications"]!["resourceSubscriptions"]!.AsArray().Select(u => u!.GetValue<string>()));
        Assert.Equal("brummerq://channels/events", update["uri"]!.GetValue<string>());
        Assert.Equal(ack["_meta"]![MetaKeys.SubscriptionId]!.ToJsonString(), update["_meta"]![MetaKeys.SubscriptionId]!.ToJsonString());
        Assert.Null(client.SessionId);
        Assert.Empty(logs.RequestLogs());
    }

    [Fact]
    public async Task QueueReceive_SessionlessBlockingCancelledByClient_LosesNoMessage()
    {
        var probe = new ToolCallProbe();
        await using var host = await TestServerHost.StartOnLoopbackAsync(configure: probe.Install);
        await using var client = await McpTestClient.ConnectAsync(host, protocolVersion: Sessionless);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

        var finished = probe.NextFinished;
        var waiting = client.CallCancellableAsync("queue_receive", """{"channel":"c1","blocking":true,"timeout":60}""", cancel.Token);
        await McpToolsTests.WaitUntilAsync(() => McpToolsTests.ReceiverWaiting(host.Queue));
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await waiting);
        await finished.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        host.Queue.Send("c1", new BrummerQueue.Core.MessageDraft(Payload: BrummerQueue.Core.JsonPayload.Parse("\"kept\"")));
        var after = await client.CallOkAsync("queue_receive", """{"channel":"c1"}""");

        Assert.Equal("kept", Assert.Single(after.GetProperty("messages").EnumerateArray()).GetProperty("payload").GetString());
    }

    [Fact]
    public async Task SubscriptionsListen_OverStdioThenEndOfInput_ProcessExitsWithoutWaitingForTheStream()
    {
        var port = BrummerqProcess.FreePort();
        using var process = BrummerqProcess.Start("mcp", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        const string Meta = "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{}}";

        await process.StandardInput.WriteAsync(
            ("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"subscriptions/listen\",\"params\":{\"notifications\":{\"resourceSubscriptions\":[\"brummerq://channels/x\"]}," + Meta + "}}\n" +
             "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"queue_send\",\"arguments\":{\"channel\":\"x\",\"payload\":1}," + Meta + "}}\n").AsMemory(),
            TestContext.Current.CancellationToken);
        process.StandardInput.Close();
        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        var lines = (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.Contains("notifications/subscriptions/acknowledged", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("\"id\":2", StringComparison.Ordinal) && l.Contains("\"result\"", StringComparison.Ordinal));
        Assert.True(process.ExitCode == 0, await stderr);
    }

    /// <summary>
    /// The seed's workflow on one client: the assistant subscribes, follows its subscription (resources/subscribe, or
    /// subscriptions/listen on 2026-07-28), a browser sends over the WebSocket, the assistant is notified and receives the
    /// message, and answers on another channel, which the browser gets. Returns the assistant's subscription id.
    /// </summary>
    private static async Task<string> SeedWorkflowAsync(McpClient assistant, Func<Task<TestSocket>> openBrowser)
    {
        var subscriptionId = (await assistant.CallOkAsync("queue_subscribe", """{"channel":"from-web"}""")).GetProperty("subscription_id").GetString()!;
        var uri = QueueResources.SubscriptionPrefix + subscriptionId;
        var notified = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var follow = await FollowAsync(assistant, uri, notified);
        await using var browser = await openBrowser();
        await browser.RequestAsync("queue_subscribe", "s1", new { channel = "to-web" });

        // Over HTTP, resources/updated travels on the client's GET stream, which the SDK opens in the background:
        // a message sent before it is up is not announced, so the browser sends until the assistant is notified.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(15));
        while (!notified.Task.IsCompleted)
        {
            await browser.SendAsync(new { type = "queue_message", data = new { channel = "from-web", payload = new { clicked = "ok" } } });
            await Task.WhenAny(notified.Task, Task.Delay(200, timeout.Token));
        }

        var received = await assistant.CallOkAsync("queue_receive", $$"""{"subscription_id":"{{subscriptionId}}","blocking":true,"timeout":10}""");
        await assistant.CallOkAsync("queue_send", """{"channel":"to-web","payload":{"done":true}}""");
        var answer = await browser.ReceiveAsync();
        while (answer.GetProperty("type").GetString() == "ack")
        {
            // The browser's sends are acknowledged; the answer comes after them.
            answer = await browser.ReceiveAsync();
        }

        Assert.Equal("queue_message", answer.GetProperty("type").GetString());

        Assert.Equal("ok", received.GetProperty("messages")[0].GetProperty("payload").GetProperty("clicked").GetString());
        Assert.True(answer.GetProperty("data").GetProperty("message").GetProperty("payload").GetProperty("done").GetBoolean());
        return subscriptionId;
    }

    /// <summary>Follows <paramref name="uri"/> in the client's revision; <paramref name="notified"/> completes on its first update.</summary>
    private static async Task<IAsyncDisposable> FollowAsync(McpClient client, string uri, TaskCompletionSource notified)
    {
        if (client.NegotiatedProtocolVersion != Sessionless)
        {
            return await client.SubscribeToResourceAsync(uri, (_, _) =>
            {
                notified.TrySetResult();
                return default;
            }, cancellationToken: TestContext.Current.CancellationToken);
        }

        var acknowledged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var onAck = client.RegisterNotificationHandler(NotificationMethods.SubscriptionsAcknowledgedNotification, (_, _) =>
        {
            acknowledged.TrySetResult();
            return default;
        });
        var onUpdate = client.RegisterNotificationHandler(NotificationMethods.ResourceUpdatedNotification, (n, _) =>
        {
            if (n.Params?["uri"]?.GetValue<string>() == uri)
            {
                notified.TrySetResult();
            }

            return default;
        });
        var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var listen = Listen(client, [uri], stop.Token);
        await acknowledged.Task.WaitAsync(TimeSpan.FromSeconds(15), TestContext.Current.CancellationToken);
        return new ListenStream(stop, listen, onAck, onUpdate);
    }

    /// <summary>Sends <c>subscriptions/listen</c> (the SDK's client has no method for it; it adds the request's <c>_meta</c>).</summary>
    private static Task<JsonRpcResponse> Listen(McpClient client, string[] uris, CancellationToken cancellationToken) =>
        client.SendRequestAsync(
            new JsonRpcRequest
            {
                Method = RequestMethods.SubscriptionsListen,
                Params = JsonSerializer.SerializeToNode(
                    new SubscriptionsListenRequestParams { Notifications = new SubscriptionsListenNotifications { ResourceSubscriptions = uris } },
                    McpJsonUtilities.DefaultOptions),
            },
            cancellationToken);

    private static async Task<HttpResponseMessage> PostAsync(HttpClient http, string? session, string? revision, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/mcp") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (session is not null)
        {
            request.Headers.Add(McpEndpointGuard.SessionHeader, session);
        }

        if (revision is not null)
        {
            request.Headers.Add("MCP-Protocol-Version", revision);
        }

        return await http.SendAsync(request, TestContext.Current.CancellationToken);
    }

    /// <summary>The <c>result</c> of a JSON-RPC answer sent as JSON or as one SSE event.</summary>
    private static async Task<JsonElement> ReadResultAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
        var json = body.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("data:", StringComparison.Ordinal)).Select(l => l[5..]).FirstOrDefault() ?? body;
        using var document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty("result").Clone();
    }

    private sealed class ListenStream(CancellationTokenSource stop, Task listen, IAsyncDisposable onAck, IAsyncDisposable onUpdate) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await listen);
            await onAck.DisposeAsync();
            await onUpdate.DisposeAsync();
            stop.Dispose();
        }
    }
}
