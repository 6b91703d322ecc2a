using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using BrummerQueue.Server.Tests.Mcp;
using BrummerQueue.Server.Tests.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace BrummerQueue.Server.Tests.Requests;

/// <summary>
/// Request/reply on every face (docs/protocol.md "Request/reply"), each answered through another face: the official MCP
/// SDK client over Streamable HTTP, real WebSockets and HTTP on a loopback host.
/// </summary>
public sealed class RequestReplyTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task McpQueueRequest_AnsweredByWebSocketResponder_ReturnsTheReply()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var _ = socket;
        await socket.RequestAsync("queue_subscribe", "s1", new { channel = "page.state" });
        await using var client = await McpTestClient.ConnectAsync(host);

        var asking = client.CallOkAsync("queue_request", """{"channel":"page.state","type":"get_state","payload":{"q":"title"},"timeout":30}""");
        var push = (await socket.ReceiveAsync("queue_message")).GetProperty("data").GetProperty("message");
        var replyTo = push.GetProperty("reply_to").GetString()!;
        Assert.StartsWith("_inbox.", replyTo, StringComparison.Ordinal);
        Assert.Equal("get_state", push.GetProperty("type").GetString());

        await socket.SendAsync($$$"""{"type":"queue_message","id":"a1","data":{"channel":"{{{replyTo}}}","type":"state","payload":{"title":"Zoë"},"correlation_id":"{{{push.GetProperty("id").GetString()}}}"}}""");
        var ack = await socket.ReceiveAsync("ack");
        Assert.Equal(1, ack.GetProperty("data").GetProperty("delivered_to").GetInt32());

        var result = await asking.WaitAsync(s_wait, Ct);
        var reply = result.GetProperty("reply");
        Assert.Equal("Zoë", reply.GetProperty("payload").GetProperty("title").GetString());
        Assert.Equal(push.GetProperty("id").GetString(), reply.GetProperty("correlation_id").GetString());
        Assert.Equal(replyTo, reply.GetProperty("channel").GetString());
        Assert.Equal(push.GetProperty("id").GetString(), result.GetProperty("request_id").GetString());
        Assert.Equal(1, result.GetProperty("delivered_to").GetInt32());

        // A second answer is refused, naming the reply channel and why.
        var late = await socket.RequestAsync("queue_message", "a2", new { channel = replyTo, payload = 2 });
        Assert.Equal("error", late.GetProperty("type").GetString());
        Assert.Equal("not_found", late.GetProperty("data").GetProperty("code").GetString());
        Assert.Contains($"channel '{replyTo}' is a reply channel with no request waiting on it", late.GetProperty("data").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task McpQueueRequest_NoReply_IsErrorNamingTimeoutAndChannel()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var client = await McpTestClient.ConnectAsync(host);
        var text = await client.CallErrorAsync("queue_request", """{"channel":"nobody","timeout":0.2}""");
        Assert.Contains("no reply within 0.2 s to request", text, StringComparison.Ordinal);
        Assert.Contains("on channel 'nobody'", text, StringComparison.Ordinal);

        Assert.Contains("timeout must be a number of seconds greater than 0 and at most 300", await client.CallErrorAsync("queue_request", """{"channel":"c","timeout":0}"""), StringComparison.Ordinal);
        Assert.Contains("unknown", await client.CallErrorAsync("queue_request", """{"channel":"c","ttl":5}"""), StringComparison.Ordinal);
    }

    [Fact]
    public async Task McpQueueSend_ReplyToAndCorrelationId_InTheStoredMessageAndRefusedWhenBad()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var client = await McpTestClient.ConnectAsync(host);
        var sent = await client.CallOkAsync("queue_send", """{"channel":"jobs","payload":1,"reply_to":"jobs.done","correlation_id":"job-7"}""");
        Assert.Equal("jobs.done", sent.GetProperty("message").GetProperty("reply_to").GetString());
        Assert.Equal("job-7", sent.GetProperty("message").GetProperty("correlation_id").GetString());
        var received = await client.CallOkAsync("queue_receive", """{"channel":"jobs"}""");
        Assert.Equal("job-7", received.GetProperty("messages")[0].GetProperty("correlation_id").GetString());
        var plain = await client.CallOkAsync("queue_send", """{"channel":"jobs"}""");
        Assert.False(plain.GetProperty("message").TryGetProperty("reply_to", out _));

        Assert.Contains("reply_to must be 1-128 characters", await client.CallErrorAsync("queue_send", """{"channel":"jobs","reply_to":"no spaces"}"""), StringComparison.Ordinal);
        Assert.Contains("correlation_id must be 1-128 characters", await client.CallErrorAsync("queue_send", """{"channel":"jobs","correlation_id":""}"""), StringComparison.Ordinal);
        Assert.Contains("is a private reply channel", await client.CallErrorAsync("queue_subscribe", """{"channel":"_inbox.abc"}"""), StringComparison.Ordinal);
    }

    [Fact]
    public async Task McpQueueRequest_WithProgressToken_KeptAliveWhileItWaits()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await TestServerHost.StartInProcessAsync(configure: b => b.Services.AddSingleton<TimeProvider>(time));
        var log = new ProgressLog();
        await using var client = await McpTestClient.ConnectAsync(host, log.ClientOptions);
        var call = client.CallToolAsync(ProgressLog.Call("queue_request", """{"channel":"slow","timeout":25}""", "req-1"), cancellationToken: Ct).AsTask();
        await McpToolsTests.WaitUntilAsync(() => host.Queue.ListChannels().Count == 1);

        time.Advance(ReceiveKeepAliveInterval);
        var progress = await log.NextAsync(s_wait) ?? throw new Xunit.Sdk.XunitException("no progress notification while queue_request waited");
        Assert.Equal("req-1", progress.ProgressToken.ToString());
        Assert.StartsWith("waiting for a message on the reply channel of a request to channel slow (", progress.Progress.Message, StringComparison.Ordinal);

        time.Advance(TimeSpan.FromSeconds(25));
        var result = await call.WaitAsync(s_wait, Ct);
        Assert.True(result.IsError);
    }

    [Fact]
    public async Task WebSocketQueueRequest_AnsweredOverHttp_ReplyFrameWithTheRequestsId()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var _ = socket;
        using var http = host.CreateHttpClient();
        await socket.SendAsync(new { type = "queue_request", id = "r1", data = new { channel = "backend", type = "lookup", payload = new { user = 7 }, timeout = 30 } });

        // The backend long-polls the channel and answers on reply_to over HTTP.
        using var polled = await http.GetAsync(new Uri("/api/channels/backend/messages?timeout=30", UriKind.Relative), Ct);
        var request = (await polled.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("messages")[0];
        var replyTo = request.GetProperty("reply_to").GetString()!;
        using var answered = await http.PostAsync(
            new Uri($"/api/channels/{replyTo}/messages", UriKind.Relative),
            Json($$"""{"type":"user","payload":{"name":"Ada"},"correlation_id":"{{request.GetProperty("id").GetString()}}"}"""),
            Ct);
        Assert.Equal(HttpStatusCode.Created, answered.StatusCode);

        var reply = await socket.ReceiveAsync("reply");
        Assert.Equal("r1", reply.GetProperty("id").GetString());
        var data = reply.GetProperty("data");
        Assert.Equal("""{"name":"Ada"}""", data.GetProperty("message").GetProperty("payload").GetRawText());
        Assert.Equal(request.GetProperty("id").GetString(), data.GetProperty("request_id").GetString());
        Assert.Equal(request.GetProperty("id").GetString(), data.GetProperty("message").GetProperty("correlation_id").GetString());

        // Too late: 404 problem naming the reply channel.
        using var late = await http.PostAsync(new Uri($"/api/channels/{replyTo}/messages", UriKind.Relative), Json("{}"), Ct);
        Assert.Equal(HttpStatusCode.NotFound, late.StatusCode);
        Assert.Contains("is a reply channel with no request waiting on it", await late.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WebSocketQueueRequest_NoReplyOrBadField_ErrorFrames()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var _ = socket;
        var timedOut = await socket.RequestAsync("queue_request", "t1", new { channel = "nobody", timeout = 0.2 });
        Assert.Equal("error", timedOut.GetProperty("type").GetString());
        Assert.Equal("timeout", timedOut.GetProperty("data").GetProperty("code").GetString());
        Assert.Contains("no reply within 0.2 s", timedOut.GetProperty("data").GetProperty("message").GetString(), StringComparison.Ordinal);

        var unknown = await socket.RequestAsync("queue_request", "t2", new { channel = "c", ttl = 3 });
        Assert.Equal(("invalid_argument", "ttl"), (unknown.GetProperty("data").GetProperty("code").GetString(), unknown.GetProperty("data").GetProperty("field").GetString()));
        var receive = await socket.RequestAsync("queue_receive", "t3", new { channel = "_inbox.abcdef" });
        Assert.Contains("is a private reply channel", receive.GetProperty("data").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HttpRequests_AnsweredByMcp_200WithTheReply()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();
        using var http = host.CreateHttpClient();
        await using var client = await McpTestClient.ConnectAsync(host);
        var asking = http.PostAsync(new Uri("/api/channels/assistant/requests?timeout=30", UriKind.Relative), Json("""{"type":"question","payload":"what next?"}"""), Ct);

        var received = await client.CallOkAsync("queue_receive", """{"channel":"assistant","blocking":true,"timeout":30}""");
        var request = received.GetProperty("messages")[0];
        Assert.Equal("\"what next?\"", request.GetProperty("payload").GetRawText());
        var send = $$"""{"channel":"{{request.GetProperty("reply_to").GetString()}}","payload":"ship it","correlation_id":"{{request.GetProperty("id").GetString()}}"}""";
        await client.CallOkAsync("queue_send", send);

        using var response = await asking.WaitAsync(s_wait, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("\"ship it\"", body.GetProperty("reply").GetProperty("payload").GetRawText());
        Assert.Equal(request.GetProperty("id").GetString(), body.GetProperty("request_id").GetString());
        Assert.Contains("no request waiting on it", await client.CallErrorAsync("queue_send", send), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HttpRequests_NoReply_504ProblemWithCodeTimeout()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();
        using var http = host.CreateHttpClient();
        using var response = await http.PostAsync(new Uri("/api/channels/nobody/requests?timeout=0.2", UriKind.Relative), Json("{}"), Ct);
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("timeout", problem.GetProperty("code").GetString());
        Assert.Contains("no reply within 0.2 s", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        using var bad = await http.PostAsync(new Uri("/api/channels/c/requests", UriKind.Relative), Json("""{"ttl":3}"""), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        using var get = await http.GetAsync(new Uri("/api/channels/c/requests", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
    }

    [Fact]
    public async Task McpQueueRequest_InAttachMode_KeptAliveAndAnswered()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();
        var log = new ProgressLog();
        await using var attached = await BrummerqProcess.ConnectStdioAsync(
            host.BaseAddress.Port,
            environment: new Dictionary<string, string?> { [BrummerQueue.Server.Mcp.ReceiveKeepAlive.IntervalVariable] = "200" },
            options: log.ClientOptions);
        var responder = host.Queue.Subscribe("remote.svc");

        var asking = log.CallAbortingAfterSilenceAsync(attached, ProgressLog.Call("queue_request", """{"channel":"remote.svc","timeout":20}""", "attach-req"), TimeSpan.FromSeconds(3));
        Assert.True(await responder.WaitToReadAsync(Ct).AsTask().WaitAsync(s_wait, Ct));
        Assert.True(responder.TryRead(out var request));

        // Answer only after the attached process has kept its client alive for a while.
        Assert.NotNull(await log.NextAsync(s_wait));
        Assert.NotNull(await log.NextAsync(s_wait));
        host.Queue.Send(request.ReplyTo!, new BrummerQueue.Core.MessageDraft(Payload: BrummerQueue.Core.JsonPayload.Parse("\"done\"")) { CorrelationId = request.Id.ToString() });

        var result = await asking.WaitAsync(s_wait, Ct);
        Assert.True(result.IsError is not true);
        Assert.Equal("done", result.StructuredContent!.Value.GetProperty("reply").GetProperty("payload").GetString());
        Assert.All(log.All, p => Assert.Equal("attach-req", p.ProgressToken.ToString()));
    }

    [Fact]
    public async Task HttpRequests_HostStops_Ends503AtOnce()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();
        using var http = host.CreateHttpClient();
        var asking = http.PostAsync(new Uri("/api/channels/slow/requests?timeout=300", UriKind.Relative), Json("{}"), Ct);
        await McpToolsTests.WaitUntilAsync(() => host.Queue.ListChannels().Count == 1);

        var stopping = host.StopAsync();
        using var response = await asking.WaitAsync(s_wait, Ct);
        await stopping.WaitAsync(s_wait, Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("the server is shutting down", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    private static TimeSpan ReceiveKeepAliveInterval => BrummerQueue.Server.Mcp.ReceiveKeepAlive.Interval;

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
