using System.Net.Sockets;
using System.Text;
using BrummerQueue.Core;
using BrummerQueue.Server.Mcp;
using Microsoft.Extensions.DependencyInjection;

namespace BrummerQueue.Server.Tests.Mcp;

/// <summary>What the server pushes into one MCP session stays bounded when the client does not read.</summary>
public sealed class McpSessionRegistryTests
{
    [Fact]
    public async Task ResourceUpdates_ClientNeverReadsItsStream_AtMostOneSendPerResourceAtATime()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();
        var registry = host.Services.GetRequiredService<McpSessionRegistry>();
        await using var client = await McpTestClient.ConnectAsync(host, standaloneGetStream: false);
        await using var watch = await client.SubscribeToResourceAsync(
            "brummerq://channels/flood",
            (_, _) => ValueTask.CompletedTask,
            cancellationToken: TestContext.Current.CancellationToken);

        // The session's GET stream, opened by a client that then never reads it.
        using var tcp = new TcpClient { ReceiveBufferSize = 4096 };
        await tcp.ConnectAsync(host.BaseAddress.Host, host.BaseAddress.Port, TestContext.Current.CancellationToken);
        var stream = tcp.GetStream();
        var request = $"GET /mcp HTTP/1.1\r\nHost: {host.BaseAddress.Authority}\r\nAccept: text/event-stream\r\n" +
            $"Mcp-Session-Id: {client.SessionId}\r\nMCP-Protocol-Version: {client.NegotiatedProtocolVersion}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), TestContext.Current.CancellationToken);
        var head = new byte[12];
        await stream.ReadExactlyAsync(head, TestContext.Current.CancellationToken);
        Assert.Equal("HTTP/1.1 200", Encoding.ASCII.GetString(head));

        // Many more updates than the stream can take while nobody reads it; the sends are given time to pile up.
        var mostInFlight = 0;
        for (var sent = 1; sent <= 50_000; sent++)
        {
            host.Queue.Send("flood", new MessageDraft(Payload: JsonPayload.Parse("1")));
            mostInFlight = Math.Max(mostInFlight, registry.NotificationsInFlight);
            if (sent % 1000 == 0)
            {
                await Task.Yield();
            }
        }

        Assert.True(mostInFlight <= 1, $"{mostInFlight} notifications were in flight at once for one subscribed resource");
        Assert.True(tcp.Available > 0, "the stream carried updates the client left unread");
    }
}
