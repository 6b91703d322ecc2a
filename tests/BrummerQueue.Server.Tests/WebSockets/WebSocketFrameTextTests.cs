using System.Net.WebSockets;

namespace BrummerQueue.Server.Tests.WebSockets;

/// <summary>Frames whose text is not text (bytes that are not UTF-8, lone surrogate escapes), as the fuzzer found them (<c>Fuzz/FuzzTests</c>).</summary>
public sealed class WebSocketFrameTextTests
{
    [Theory]
    [InlineData("""{"type":"queue_message","id":"a","data":{"channel":"fz.\ud83d"}}""", "channel")]
    [InlineData("""{"type":"queue_message","id":"a","data":{"channel":"c","type":"\ude00"}}""", "type")]
    [InlineData("""{"type":"ping\ud83d","id":"a"}""", "type")]
    [InlineData("""{"type":"queue_message","id":"a","data":{"channel":"c","\ud83d":1}}""", "\\ud83d")]
    [InlineData("""{"type":"queue_message","\ud83did":42,"data":{"channel":"c"}}""", "\\ud83did")]
    public async Task HandleFrame_LoneSurrogateEscapeOutsidePayload_InvalidArgumentNamingTheField(string frame, string field)
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var _ = socket;

        await socket.SendAsync(frame);

        var error = (await socket.ReceiveAsync("error")).GetProperty("data");
        Assert.Equal("invalid_argument", error.GetProperty("code").GetString());
        Assert.Equal(field, error.GetProperty("field").GetString());
        Assert.Contains("lone surrogate", error.GetProperty("message").GetString());
        Assert.Equal(0, host.Queue.GetStats().MessagesSent);
    }

    [Fact]
    public async Task HandleFrame_TextFrameNotUtf8_InvalidJsonErrorAndConnectionStaysOpen()
    {
        // The in-process server's WebSocket passes such a frame on (Kestrel's closes with 1007 first).
        await using var host = await TestServerHost.StartInProcessAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var _ = socket;

        // "queue_receive" followed by F4 90 80 80, a code point above U+10FFFF, in the type string.
        byte[] frame = [.. "{\"type\":\"queue_receive"u8, 0xf4, 0x90, 0x80, 0x80, .. "\",\"data\":{\"channel\":\"c\"}}"u8];
        await socket.Socket.SendAsync(frame, WebSocketMessageType.Text, true, TestContext.Current.CancellationToken);

        var error = await socket.ReceiveAsync("error");
        Assert.Equal("invalid_json", error.GetProperty("data").GetProperty("code").GetString());
        Assert.Contains("UTF-8", error.GetProperty("data").GetProperty("message").GetString());
        var pong = await socket.RequestAsync("ping", "after");
        Assert.Equal("pong", pong.GetProperty("type").GetString());
    }

    [Fact]
    public async Task ReadLoop_TextFrameNotUtf8OnRealSocket_ClosedWith1007AndServerKeepsServing()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using (socket)
        {
            byte[] frame = [.. "{\"type\":\"ping\",\"id\":\"a"u8, 0xff, .. "\"}"u8];
            await socket.Socket.SendAsync(frame, WebSocketMessageType.Text, true, TestContext.Current.CancellationToken);

            WebSocketCloseStatus? status;
            try
            {
                (status, _) = await socket.ReceiveCloseAsync();
            }
            catch (WebSocketException)
            {
                // The server's WebSocket sends 1007 and drops the connection at once; a reset can overtake the close frame.
                status = socket.Socket.CloseStatus;
            }

            Assert.True(status is null or WebSocketCloseStatus.InvalidPayloadData, $"closed with {status}");
            Assert.NotEqual(WebSocketState.Open, socket.Socket.State);
        }

        var (next, _) = await TestSocket.ConnectAsync(host);
        await using var __ = next;
        Assert.Equal("pong", (await next.RequestAsync("ping", "after")).GetProperty("type").GetString());
    }
}
