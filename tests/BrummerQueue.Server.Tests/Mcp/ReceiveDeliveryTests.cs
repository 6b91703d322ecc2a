using System.IO.Pipes;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using BrummerQueue.Core;
using BrummerQueue.Server.Hosting;
using BrummerQueue.Server.Mcp;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace BrummerQueue.Server.Tests.Mcp;

/// <summary>
/// SPEC.md §1 "Reads never lose" over MCP: a <c>queue_receive</c> whose JSON-RPC response cannot be sent puts
/// back what it took (the SDK sends the response after the tool returned; see <c>ReceiveDelivery</c>).
/// </summary>
public sealed class ReceiveDeliveryTests
{
    [Fact]
    public async Task QueueReceive_ResponseSendFails_ChannelAndSubscriptionMessagesStayReceivableAndConsumedCountsOnlyDelivered()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var armed = 0;
        host.Services.GetRequiredService<DeliveryFaults>().FailReply = face => face == DeliveryFaults.Mcp && Interlocked.Exchange(ref armed, 0) == 1;
        await using var client = await McpTestClient.ConnectAsync(host);
        var subscription = (await client.CallOkAsync("queue_subscribe", """{"channel":"mcp.lost","buffer_size":2}""")).GetProperty("subscription_id").GetString();
        for (var i = 1; i <= 3; i++)
        {
            host.Queue.Send("mcp.lost", new MessageDraft(Payload: JsonPayload.Parse(i.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        }

        // Channel: the tool takes the three messages, then the transport fails to send the response.
        Volatile.Write(ref armed, 1);
        await Assert.ThrowsAsync<McpProtocolException>(() => client.CallAsync("queue_receive", """{"channel":"mcp.lost"}"""));
        Assert.Equal(0, host.Queue.GetStats().MessagesConsumed);
        var channel = await client.CallOkAsync("queue_receive", """{"channel":"mcp.lost","blocking":true,"timeout":10}""");
        Assert.Equal([1, 2, 3], channel.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("payload").GetInt32()));

        // Subscription (buffer 2, so one message was dropped): the messages and the dropped count come back.
        Volatile.Write(ref armed, 1);
        await Assert.ThrowsAsync<McpProtocolException>(() => client.CallAsync("queue_receive", $$"""{"subscription_id":"{{subscription}}"}"""));
        var read = await client.CallOkAsync("queue_receive", $$"""{"subscription_id":"{{subscription}}"}""");
        Assert.Equal([2, 3], read.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("payload").GetInt32()));
        Assert.Equal(1, read.GetProperty("dropped").GetInt64());

        var stats = await client.CallOkAsync("queue_stats");
        Assert.Equal(3, stats.GetProperty("messages_consumed").GetInt64());
        Assert.Equal(3, stats.GetProperty("channels").GetProperty("mcp.lost").GetProperty("consumed").GetInt64());
    }

    [Fact]
    public async Task QueuePutBack_Receipt_OnlyItsSessionReturnsTheMessagesAndOnlyOnce()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var owner = await McpTestClient.ConnectAsync(host);
        await using var stranger = await McpTestClient.ConnectAsync(host);
        host.Queue.Send("receipt", new MessageDraft(Payload: JsonPayload.Parse("1")));
        var result = await owner.CallToolAsync(
            new CallToolRequestParams
            {
                Name = "queue_receive",
                Arguments = new Dictionary<string, JsonElement> { ["channel"] = JsonSerializer.SerializeToElement("receipt") },
                Meta = new JsonObject { [ReceiveDelivery.ReceiptMeta] = true },
            },
            TestContext.Current.CancellationToken);
        var receipt = result.Meta![ReceiveDelivery.ReceiptMeta]!.GetValue<string>();
        var arguments = $$"""{"receipt":"{{receipt}}"}""";

        var refused = await stranger.CallErrorAsync(ReceiveDelivery.PutBackTool, arguments);
        var restored = await owner.CallOkAsync(ReceiveDelivery.PutBackTool, arguments);
        var again = await owner.CallErrorAsync(ReceiveDelivery.PutBackTool, arguments);

        Assert.Contains("unknown to this session", refused, StringComparison.Ordinal);
        Assert.Equal(1, restored.GetProperty("restored").GetInt32());
        Assert.Contains("used already", again, StringComparison.Ordinal);
        Assert.Equal(0, host.Queue.GetStats().MessagesConsumed);
        Assert.Equal(1, host.Queue.GetStats().TotalMessages);
    }

    [Fact]
    public async Task QueueReceive_StdoutClosedBeforeTheResponse_MessagesStayReceivable()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var options = host.Services.GetRequiredService<IOptions<McpServerOptions>>().Value;
        await AssertStdoutClosedLosesNothingAsync(host, options, host.Services, "stdio.lost");
    }

    [Fact]
    public async Task QueueReceive_AttachModeStdoutClosedBeforeTheResponse_MessagesGoBackToTheHostingServer()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();
        await using var remote = new RemoteQueue(host.BaseAddress, token: null, NullLoggerFactory.Instance);
        await remote.ConnectAsync(TestContext.Current.CancellationToken);
        var options = new McpServerOptions();
        remote.Configure(options);
        await AssertStdoutClosedLosesNothingAsync(host, options, null, "attach.lost");
    }

    [Fact]
    public async Task QueueReceive_AttachModeBatchWithMessageTooDeepForTheClient_ClearErrorAndAllMessagesPutBackInOrder()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();
        using var attached = await RawStdioSession.StartAsync(host.BaseAddress.Port);
        var sent = new List<string> { "{\"order\":1}", "{\"order\":2}", "{\"order\":3}", Payload.PayloadFacesTests.Nested(62), Payload.PayloadFacesTests.Nested(59) };
        foreach (var payload in sent)
        {
            host.Queue.Send("batch", new MessageDraft(Payload: JsonPayload.Parse(payload)));
        }

        var reply = await attached.CallAsync("queue_receive", """{"channel":"batch","limit":10}"""u8.ToArray());

        var error = Payload.PayloadFacesTests.ErrorText(reply);
        Assert.Contains("queue_receive through an attached 'brummerq mcp' cannot return a message whose payload is nested more than 59 levels deep", error, StringComparison.Ordinal);
        Assert.Contains("the 5 message(s) it took were put back in order", error, StringComparison.Ordinal);
        Assert.DoesNotContain("not reachable", error, StringComparison.Ordinal);
        Assert.Equal(0, host.Queue.GetStats().MessagesConsumed);
        var again = await host.Queue.ReceiveAsync(new ReceiveRequest { Channel = "batch", Limit = 10 }, TestContext.Current.CancellationToken);
        Assert.Equal(sent, again.Messages.Select(m => m.Payload.ToString()));

        // The attached process stays connected: a batch within the client's limit is relayed.
        host.Queue.Send("batch", new MessageDraft(Payload: JsonPayload.Parse(Payload.PayloadFacesTests.Nested(59))));
        var relayed = Payload.PayloadFacesTests.Result(await attached.CallAsync("queue_receive", """{"channel":"batch","limit":10}"""u8.ToArray()));
        Assert.Equal(1, relayed.GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task QueueSend_AttachModePayloadTooDeepForTheClient_ClearErrorAndNothingStored()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();
        using var attached = await RawStdioSession.StartAsync(host.BaseAddress.Port);

        var refused = new List<string>();
        foreach (var depth in new[] { 61, 62, 64, 65 })
        {
            refused.Add(Payload.PayloadFacesTests.ErrorText(await attached.CallAsync("queue_send", Encoding.UTF8.GetBytes($$"""{"channel":"deep","payload":{{Payload.PayloadFacesTests.Nested(depth)}}}"""))));
        }

        Assert.Equal(0, host.Queue.GetStats().MessagesSent);
        Assert.All(refused, e => Assert.Contains(
            "payload is nested more than 60 levels deep, which queue_send through an attached 'brummerq mcp' cannot forward",
            e,
            StringComparison.Ordinal));
        Payload.PayloadFacesTests.Result(await attached.CallAsync("queue_send", Encoding.UTF8.GetBytes($$"""{"channel":"deep","payload":{{Payload.PayloadFacesTests.Nested(60)}}}""")));
        Assert.Equal(1, host.Queue.GetStats().MessagesSent);
    }

    /// <summary>
    /// Runs an MCP stdio server with <paramref name="options"/> on OS pipes in place of stdin and stdout, closes the
    /// client's end of stdout (the assistant went away), calls queue_receive, and checks the messages it took are
    /// back in <paramref name="host"/>'s queue, in order, and not counted as consumed.
    /// </summary>
    private static async Task AssertStdoutClosedLosesNothingAsync(TestServerHost host, McpServerOptions options, IServiceProvider? services, string channel)
    {
        var ct = TestContext.Current.CancellationToken;
        var taken = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // Not a fault: tells the test that the (hosting) server took the messages and is writing its response.
        host.Services.GetRequiredService<DeliveryFaults>().FailReply = face =>
        {
            taken.TrySetResult();
            return false;
        };
        for (var i = 1; i <= 2; i++)
        {
            host.Queue.Send(channel, new MessageDraft(Payload: JsonPayload.Parse(i.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        }

        using var stdin = new AnonymousPipeServerStream(PipeDirection.Out);
        using var serverIn = new AnonymousPipeClientStream(PipeDirection.In, stdin.ClientSafePipeHandle);
        var stdout = new AnonymousPipeServerStream(PipeDirection.In);
        using var serverOut = new AnonymousPipeClientStream(PipeDirection.Out, stdout.ClientSafePipeHandle);
        await using var transport = new StreamServerTransport(serverIn, serverOut, "brummerq", NullLoggerFactory.Instance);
        await using var server = McpServer.Create(transport, options, NullLoggerFactory.Instance, services);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var running = server.RunAsync(stop.Token);

        await WriteLineAsync(stdin, """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}""");
        using (var reader = new StreamReader(stdout, Encoding.UTF8))
        {
            Assert.Contains("\"id\":1", await reader.ReadLineAsync(ct).AsTask().WaitAsync(TimeSpan.FromSeconds(10), ct), StringComparison.Ordinal);
        }

        // The assistant went away: its end of stdout is closed, so the response to this call cannot be written.
        await WriteLineAsync(stdin, """{"jsonrpc":"2.0","method":"notifications/initialized"}""");
        await WriteLineAsync(stdin, $$$$"""{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"queue_receive","arguments":{"channel":"{{{{channel}}}}"}}}""");
        await taken.Task.WaitAsync(TimeSpan.FromSeconds(10), ct);

        // Woken by the put-back (the channel was empty while the response was being written).
        var again = await host.Queue.ReceiveAsync(new ReceiveRequest { Channel = channel, Blocking = true, TimeoutSeconds = 10 }, ct);
        Assert.Equal([1L, 2L], again.Messages.Select(m => m.Seq));
        Assert.Equal(2, host.Queue.GetStats().MessagesConsumed);
        await stop.CancelAsync();
        await running.ContinueWith(_ => { }, TaskScheduler.Default);
    }

    private static async Task WriteLineAsync(Stream stream, string line)
    {
        await stream.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"), TestContext.Current.CancellationToken);
        await stream.FlushAsync(TestContext.Current.CancellationToken);
    }
}
