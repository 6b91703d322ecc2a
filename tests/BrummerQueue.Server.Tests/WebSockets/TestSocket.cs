using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace BrummerQueue.Server.Tests.WebSockets;

/// <summary>A test client of <c>/__brummer_ws__</c>: sends JSON text frames and awaits frames with a timeout that fails the test.</summary>
public sealed class TestSocket : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly byte[] _buffer = new byte[4 << 20];

    private TestSocket(WebSocket socket) => Socket = socket;

    public WebSocket Socket { get; }

    /// <summary>Connects in-process (TestServer) or over a real socket (loopback host) and reads the greeting.</summary>
    public static async Task<(TestSocket Socket, JsonElement Greeting)> ConnectAsync(TestServerHost host, string query = "", Action<ClientWebSocketOptions>? configure = null)
    {
        var socket = await OpenAsync(host, query, configure);
        var greeting = await socket.ReceiveAsync("connected");
        return (socket, greeting);
    }

    /// <summary>Opens the socket without reading anything.</summary>
    public static async Task<TestSocket> OpenAsync(TestServerHost host, string query = "", Action<ClientWebSocketOptions>? configure = null)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(Timeout);
        if (host.TestServer is { } server)
        {
            var client = server.CreateWebSocketClient();
            return new TestSocket(await client.ConnectAsync(new Uri("ws://localhost/__brummer_ws__" + query), timeout.Token));
        }

        var socket = new ClientWebSocket();
        configure?.Invoke(socket.Options);
        var uri = new UriBuilder(host.BaseAddress) { Scheme = "ws", Path = "/__brummer_ws__", Query = query.TrimStart('?') }.Uri;
        await socket.ConnectAsync(uri, timeout.Token);
        return new TestSocket(socket);
    }

    /// <summary>Opens a real socket to the brummerq at <paramref name="baseAddress"/> (e.g. a <c>brummerq mcp</c> process) and reads the greeting.</summary>
    public static async Task<TestSocket> ConnectAsync(Uri baseAddress)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(Timeout);
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(new UriBuilder(baseAddress) { Scheme = "ws", Path = "/__brummer_ws__" }.Uri, timeout.Token);
        var connected = new TestSocket(socket);
        await connected.ReceiveAsync("connected");
        return connected;
    }

    /// <summary>Tries to connect over a real socket and returns the HTTP status of a refusal (or 101 on success).</summary>
    public static async Task<HttpStatusCode> TryConnectAsync(TestServerHost host, string query = "", Action<ClientWebSocketOptions>? configure = null)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        configure?.Invoke(socket.Options);
        var uri = new UriBuilder(host.BaseAddress) { Scheme = "ws", Path = "/__brummer_ws__", Query = query.TrimStart('?') }.Uri;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            await socket.ConnectAsync(uri, timeout.Token);
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            return HttpStatusCode.SwitchingProtocols;
        }
        catch (WebSocketException)
        {
            return socket.HttpStatusCode;
        }
    }

    public Task SendAsync(string json) =>
        Socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, true, TestContext.Current.CancellationToken);

    /// <summary>Sends a frame built from an anonymous object (snake_case names as written).</summary>
    public Task SendAsync(object frame) => SendAsync(JsonSerializer.Serialize(frame));

    /// <summary>The next frame's text; fails when none arrives in time or the socket closes.</summary>
    public async Task<string> ReceiveTextAsync()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(Timeout);
        var count = 0;
        while (true)
        {
            var result = await Socket.ReceiveAsync(_buffer.AsMemory(count), timeout.Token);
            Assert.NotEqual(WebSocketMessageType.Close, result.MessageType);
            count += result.Count;
            if (result.EndOfMessage)
            {
                return Encoding.UTF8.GetString(_buffer, 0, count);
            }
        }
    }

    /// <summary>The next frame; fails when none arrives in time or the socket closes.</summary>
    public async Task<JsonElement> ReceiveAsync()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(Timeout);
        var count = 0;
        while (true)
        {
            var result = await Socket.ReceiveAsync(_buffer.AsMemory(count), timeout.Token);
            Assert.NotEqual(WebSocketMessageType.Close, result.MessageType);
            count += result.Count;
            if (result.EndOfMessage)
            {
                // Deep enough for a payload at the largest depth limit inside a reply.
                return JsonDocument.Parse(_buffer.AsMemory(0, count), new JsonDocumentOptions { MaxDepth = 1000 }).RootElement.Clone();
            }
        }
    }

    /// <summary>The next frame, which must be of <paramref name="type"/>.</summary>
    public async Task<JsonElement> ReceiveAsync(string type)
    {
        var frame = await ReceiveAsync();
        Assert.True(frame.GetProperty("type").GetString() == type, $"expected a '{type}' frame, got {frame}");
        return frame;
    }

    /// <summary>Sends a request and returns the next frame, which must carry the same id.</summary>
    public async Task<JsonElement> RequestAsync(string type, string id, object? data = null)
    {
        await SendAsync(data is null ? new { type, id } : new { type, id, data });
        var reply = await ReceiveAsync();
        Assert.True(reply.TryGetProperty("id", out var replyId) && replyId.GetString() == id, $"expected the reply to '{id}', got {reply}");
        return reply;
    }

    /// <summary>Reads (and drops) frames until the server's close arrives; returns its status and reason.</summary>
    public async Task<(WebSocketCloseStatus? Status, string? Reason)> ReceiveCloseAsync()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(Timeout);
        while (true)
        {
            var result = await Socket.ReceiveAsync(_buffer.AsMemory(), timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return (Socket.CloseStatus, Socket.CloseStatusDescription);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Socket.State == WebSocketState.Open)
        {
            using var timeout = new CancellationTokenSource(Timeout);
            try
            {
                await Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
                // The server went first; nothing to close.
            }
        }

        Socket.Dispose();
    }
}
