using System.Net.WebSockets;

namespace BrummerQueue.Server.Tests.WebSockets;

/// <summary>Text frames that are not UTF-8, as the fuzzer found them (<c>Fuzz/FuzzTests</c>).</summary>
public sealed class WebSocketUtf8Tests
{
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
    public async Task ReadLoop_TextFrameNotUtf8OnRealSocket_ClosedWith1007()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var _ = socket;

        byte[] frame = [.. "{\"type\":\"ping\",\"id\":\"a"u8, 0xff, .. "\"}"u8];
        await socket.Socket.SendAsync(frame, WebSocketMessageType.Text, true, TestContext.Current.CancellationToken);

        var (status, _) = await socket.ReceiveCloseAsync();
        Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, status);
    }
}
