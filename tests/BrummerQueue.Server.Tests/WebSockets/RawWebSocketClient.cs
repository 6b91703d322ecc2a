using System.Net.Sockets;
using System.Text;

namespace BrummerQueue.Server.Tests.WebSockets;

/// <summary>
/// A WebSocket client on a bare TCP socket, for peers a real client library will not imitate: one that
/// never answers pings and never reads. It does the upgrade by hand, sends masked text frames, and
/// otherwise only reads raw bytes (so no pong is ever sent).
/// </summary>
public sealed class RawWebSocketClient : IDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;

    private RawWebSocketClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    /// <summary>Connects and upgrades; <paramref name="receiveBufferBytes"/> shrinks the kernel's receive buffer (set before connecting).</summary>
    public static async Task<RawWebSocketClient> ConnectAsync(Uri baseAddress, int? receiveBufferBytes = null)
    {
        var tcp = new TcpClient();
        if (receiveBufferBytes is { } size)
        {
            tcp.ReceiveBufferSize = size;
        }

        await tcp.ConnectAsync(baseAddress.Host, baseAddress.Port, TestContext.Current.CancellationToken);
        var client = new RawWebSocketClient(tcp);
        var request = $"GET /__brummer_ws__ HTTP/1.1\r\nHost: {baseAddress.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
        await client._stream.WriteAsync(Encoding.ASCII.GetBytes(request), TestContext.Current.CancellationToken);
        var head = await client.ReadHeadAsync();
        Assert.StartsWith("HTTP/1.1 101", head, StringComparison.Ordinal);
        return client;
    }

    /// <summary>Sends one masked text frame (clients must mask).</summary>
    public async Task SendTextAsync(string json)
    {
        var payload = Encoding.UTF8.GetBytes(json);
        var frame = new List<byte> { 0x81 };
        if (payload.Length < 126)
        {
            frame.Add((byte)(0x80 | payload.Length));
        }
        else
        {
            Assert.True(payload.Length <= ushort.MaxValue);
            frame.Add(0x80 | 126);
            frame.Add((byte)(payload.Length >> 8));
            frame.Add((byte)payload.Length);
        }

        byte[] mask = [0x12, 0x34, 0x56, 0x78];
        frame.AddRange(mask);
        frame.AddRange(payload.Select((b, i) => (byte)(b ^ mask[i % 4])));
        await _stream.WriteAsync(frame.ToArray(), TestContext.Current.CancellationToken);
    }

    /// <summary>Reads and discards everything (never answering a ping) until the server ends the TCP connection; fails after <paramref name="limit"/>.</summary>
    public async Task<long> ReadUntilServerEndsAsync(TimeSpan limit)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(limit);
        var buffer = new byte[64 * 1024];
        long total = 0;
        try
        {
            int read;
            while ((read = await _stream.ReadAsync(buffer, timeout.Token)) > 0)
            {
                total += read;
            }
        }
        catch (IOException e) when (e.InnerException is SocketException)
        {
            // Reset by the server (an abort): ended as well.
        }

        return total;
    }

    public void Dispose()
    {
        _stream.Dispose();
        _tcp.Dispose();
    }

    private async Task<string> ReadHeadAsync()
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await _stream.ReadAsync(one, TestContext.Current.CancellationToken) == 0)
            {
                break;
            }

            head.Append((char)one[0]);
        }

        return head.ToString();
    }
}
