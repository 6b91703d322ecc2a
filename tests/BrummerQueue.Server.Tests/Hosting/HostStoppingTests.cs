using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using BrummerQueue.Core;
using BrummerQueue.Server.Tests.Mcp;
using BrummerQueue.Server.Tests.WebSockets;

namespace BrummerQueue.Server.Tests.Hosting;

/// <summary>Host shutdown ends waiting receives on every face with an empty result, taking nothing.</summary>
public sealed class HostStoppingTests
{
    [Fact]
    public async Task Stop_WaitingReceivesOnEveryFace_AnswerEmptyTakeNothingAndSocketCloses1001()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();
        var ct = TestContext.Current.CancellationToken;
        await using var mcp = await McpTestClient.ConnectAsync(host);
        using var http = host.CreateHttpClient();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;

        var mcpReceive = mcp.CallOkAsync("queue_receive", """{"channel":"wait","blocking":true,"timeout":120}""");
        var longPoll = http.GetAsync("api/channels/wait/messages?timeout=120", ct);
        await socket.SendAsync(new { type = "queue_receive", id = "r", data = new { channel = "wait", blocking = true, timeout = 120 } });
        await McpToolsTests.WaitUntilAsync(() => host.Queue.GetStats().WaitingReceivers == 3);

        var stopping = host.StopAsync();
        var wsReply = await socket.ReceiveAsync("messages");
        var (status, reason) = await socket.ReceiveCloseAsync();
        await socket.Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, ct);
        var mcpResult = await mcpReceive.WaitAsync(TestSocket.Timeout, ct);
        using var pollResponse = await longPoll.WaitAsync(TestSocket.Timeout, ct);
        var pollResult = await pollResponse.Content.ReadFromJsonAsync<JsonElement>(ct);
        await stopping.WaitAsync(TestSocket.Timeout, ct);

        // Nothing is waiting any more: a message sent now stays in the channel.
        host.Queue.Send("wait", new MessageDraft(Payload: JsonPayload.Parse("1")));
        var left = new List<QueueMessage>();
        host.Queue.Receive("wait", 10, peek: true, left);

        Assert.Equal("r", wsReply.GetProperty("id").GetString());
        Assert.Equal(0, wsReply.GetProperty("data").GetProperty("count").GetInt32());
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, status);
        Assert.Equal("server shutting down", reason);
        Assert.Equal(0, mcpResult.GetProperty("count").GetInt32());
        Assert.Equal(System.Net.HttpStatusCode.OK, pollResponse.StatusCode);
        Assert.Equal(0, pollResult.GetProperty("count").GetInt32());
        Assert.Single(left);
        Assert.Equal(0, host.Queue.GetStats().MessagesConsumed);
        Assert.Equal(0, host.Queue.GetStats().WaitingReceivers);
    }
}
