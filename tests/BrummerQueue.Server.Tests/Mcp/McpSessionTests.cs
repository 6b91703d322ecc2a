using System.Net;
using System.Text.Json;
using BrummerQueue.Core;
using BrummerQueue.Server.Mcp;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ModelContextProtocol;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Client;

namespace BrummerQueue.Server.Tests.Mcp;

/// <summary>Subscriptions made over MCP belong to the session and end with it (HTTP DELETE, idle expiry).</summary>
public sealed class McpSessionTests
{
    [Fact]
    public async Task SessionDelete_WithSubscriptions_RemovesThem()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var keeper = await McpTestClient.ConnectAsync(host);
        await using (var leaver = await McpTestClient.ConnectAsync(host))
        {
            await leaver.CallOkAsync("queue_subscribe", """{"channel":"a"}""");
            await leaver.CallOkAsync("queue_subscribe", """{"channel":"b"}""");
            await keeper.CallOkAsync("queue_subscribe", """{"channel":"a"}""");
            Assert.Equal(3, host.Queue.GetStats().TotalSubscriptions);
        }

        await McpToolsTests.WaitUntilAsync(() => host.Queue.GetStats().TotalSubscriptions == 1);
        Assert.Equal(1, host.Queue.GetStats().TotalSubscriptions);
        await keeper.DisposeAsync();
        await McpToolsTests.WaitUntilAsync(() => host.Queue.GetStats().TotalSubscriptions == 0);
    }

    [Fact]
    public async Task SessionIdleExpiry_WithSubscription_RemovesIt()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await TestServerHost.StartInProcessAsync(configure: b =>
            b.Services.Configure<HttpServerTransportOptions>(o =>
            {
#pragma warning disable MCP9006 // Idle expiry belongs to stateful sessions, which brummerq needs (push, owned subscriptions).
                o.IdleTimeout = TimeSpan.FromMinutes(1);
#pragma warning restore MCP9006
                o.TimeProvider = time;
            }));
        await using var client = await McpTestClient.ConnectAsync(host, standaloneGetStream: false);
        await client.CallOkAsync("queue_subscribe", """{"channel":"idle"}""");
        Assert.Equal(1, host.Queue.GetStats().TotalSubscriptions);

        await McpToolsTests.WaitUntilAsync(() =>
        {
            time.Advance(TimeSpan.FromSeconds(30));
            return host.Queue.GetStats().TotalSubscriptions == 0;
        });
    }

    [Fact]
    public async Task SessionDelete_DuringBlockingReceive_LosesNoMessage()
    {
        var probe = new ToolCallProbe();
        await using var host = await TestServerHost.StartInProcessAsync(configure: probe.Install);
        var finished = probe.NextFinished;
        var waiter = await McpTestClient.ConnectAsync(host);
        var waiting = waiter.CallAsync("queue_receive", """{"channel":"gone","blocking":true,"timeout":60}""");
        await McpToolsTests.WaitUntilAsync(() => McpToolsTests.ReceiverWaiting(host.Queue));

        await waiter.DisposeAsync();
        await finished.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        host.Queue.Send("gone", new MessageDraft(Payload: JsonPayload.Parse("1")));
        await using var other = await McpTestClient.ConnectAsync(host);
        var result = await other.CallOkAsync("queue_receive", """{"channel":"gone"}""");

        Assert.Equal(1, result.GetProperty("count").GetInt32());
        await Assert.ThrowsAnyAsync<Exception>(async () => await waiting);
    }

    [Theory]
    [InlineData("{}", "Invalid params for initialize: missing 'protocolVersion', 'capabilities', 'clientInfo'")]
    [InlineData("""{"capabilities":{}}""", "Invalid params for initialize: missing 'protocolVersion', 'clientInfo'")]
    public async Task Post_InitializeWithBadParams_Answers400InvalidParamsWithOneDebugLine(string parameters, string message)
    {
        var logs = new LogCapture();
        await using var host = await TestServerHost.StartInProcessAsync(configure: logs.InstallWithDebug);
        using var http = host.CreateHttpClient();

        using var response = await RawMcpHttpClient.PostAsync(http, null, $$"""{"jsonrpc":"2.0","id":"i1","method":"initialize","params":{{parameters}}}""", TestContext.Current.CancellationToken);
        var (error, _) = await RawMcpHttpClient.ReadErrorAsync(response);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal((int)McpErrorCode.InvalidParams, error.GetProperty("code").GetInt32());
        Assert.Equal(message, error.GetProperty("message").GetString());
        McpCancellationTests.AssertOneDebugLine(logs, McpLogEvents.RequestRefused);
    }

    [Fact]
    public async Task Post_WithoutSession_Answers400WithAMessageForTheUser()
    {
        var logs = new LogCapture();
        await using var host = await TestServerHost.StartInProcessAsync(configure: logs.Install);
        using var http = host.CreateHttpClient();

        using var response = await RawMcpHttpClient.PostAsync(http, null, """{"jsonrpc":"2.0","id":"t1","method":"tools/list"}""", TestContext.Current.CancellationToken);
        var (error, id) = await RawMcpHttpClient.ReadErrorAsync(response);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("t1", id.GetString());
        Assert.Equal(McpEndpointGuard.NoSessionCode, error.GetProperty("code").GetInt32());
        Assert.Equal(McpEndpointGuard.NoSessionMessage, error.GetProperty("message").GetString());
        Assert.DoesNotContain("Stateless", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(logs.RequestLogs());
    }

    [Fact]
    public async Task Get_WithoutSession_Answers400WithAMessageForTheUser()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var http = host.CreateHttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/mcp");
        request.Headers.Accept.ParseAdd("text/event-stream");

        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
        var (error, id) = await RawMcpHttpClient.ReadErrorAsync(response);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(JsonValueKind.Null, id.ValueKind);
        Assert.Equal(McpEndpointGuard.NoSessionMessage, error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Post_SessionEnded_Answers404WithAMessageForTheUser()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var session = await RawMcpHttpClient.StartAsync(host.CreateHttpClient());
        using (var ok = await session.PostAsync("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""", TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using (var delete = new HttpRequestMessage(HttpMethod.Delete, "/mcp"))
        {
            delete.Headers.Add(McpEndpointGuard.SessionHeader, session.SessionId);
            using var http = host.CreateHttpClient();
            (await http.SendAsync(delete, TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();
        }

        await McpToolsTests.WaitUntilAsync(() => !host.Services.GetRequiredService<McpSessionRegistry>().IsHttpSession(session.SessionId!));
        using var response = await session.PostAsync("""{"jsonrpc":"2.0","id":2,"method":"tools/list"}""", TestContext.Current.CancellationToken);
        var (error, id) = await RawMcpHttpClient.ReadErrorAsync(response);
        using var unknown = await RawMcpHttpClient.PostAsync(host.CreateHttpClient(), "no-such-session", """{"jsonrpc":"2.0","id":3,"method":"tools/list"}""", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(2, id.GetInt32());
        Assert.Equal(McpEndpointGuard.SessionEndedCode, error.GetProperty("code").GetInt32());
        Assert.Equal(McpEndpointGuard.SessionEndedMessage, error.GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task Subscription_OfAnotherSession_CannotBeReadOrClosed()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var owner = await McpTestClient.ConnectAsync(host);
        await using var other = await McpTestClient.ConnectAsync(host);
        var id = (await owner.CallOkAsync("queue_subscribe", """{"channel":"mine"}""")).GetProperty("subscription_id").GetString();

        var read = await other.CallErrorAsync("queue_receive", $$"""{"subscription_id":"{{id}}"}""");
        var close = await other.CallErrorAsync("queue_unsubscribe", $$"""{"subscription_id":"{{id}}"}""");
        var own = await owner.CallOkAsync("queue_unsubscribe", $$"""{"subscription_id":"{{id}}"}""");

        Assert.Contains("belongs to another MCP session", read, StringComparison.Ordinal);
        Assert.Contains("belongs to another MCP session", close, StringComparison.Ordinal);
        Assert.True(own.GetProperty("unsubscribed").GetBoolean());
    }
}
