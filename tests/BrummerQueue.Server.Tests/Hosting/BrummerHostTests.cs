using System.Diagnostics;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using BrummerQueue.Server.Tests.WebSockets;

namespace BrummerQueue.Server.Tests.Hosting;

/// <summary>The host's limits against slow and hostile HTTP clients, over real loopback sockets.</summary>
public sealed class BrummerHostTests
{
    [Fact]
    public async Task RequestHeaders_TrickledSlowerThanTimeout_ConnectionCutOff()
    {
        using var ends = new KestrelConnectionEnds();
        await using var host = await TestServerHost.StartOnLoopbackAsync(new() { ["Brummerq:RequestHeadersTimeoutSeconds"] = "1" });
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(host.BaseAddress.Host, host.BaseAddress.Port, TestContext.Current.CancellationToken);
        var stream = tcp.GetStream();
        await stream.WriteAsync("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "u8.ToArray(), TestContext.Current.CancellationToken);
        var clock = Stopwatch.StartNew();
        var cutOff = ends.EndedAsync("request_headers_timeout", TimeSpan.FromSeconds(8));

        // A slowloris: one more header byte every 100 ms, never the end of the headers.
        while (!cutOff.IsCompleted)
        {
            try
            {
                await stream.WriteAsync("x"u8.ToArray(), TestContext.Current.CancellationToken);
            }
            catch (IOException)
            {
                // The server hung up.
            }

            await Task.WhenAny(cutOff, Task.Delay(100, TestContext.Current.CancellationToken));
        }

        await cutOff;
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4), $"cut off after {clock.Elapsed}; the limit is 1 s");
    }

    [Fact]
    public async Task MinDataRate_LongPollAndQuietWebSocketPastTheGrace_AreNotCutOff()
    {
        // A rate no client could reach: only connections the rate does not apply to survive it.
        await using var host = await TestServerHost.StartOnLoopbackAsync(new() { ["Brummerq:MinDataRateBytesPerSecond"] = "100000000" });
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;
        using var http = host.CreateHttpClient();

        // Longer than the 5-second grace after which a rate is enforced.
        using var poll = await http.GetAsync("api/channels/quiet/messages?timeout=6", TestContext.Current.CancellationToken);
        var body = await poll.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        var pong = await socket.RequestAsync("ping", "after-the-poll");

        Assert.Equal(System.Net.HttpStatusCode.OK, poll.StatusCode);
        Assert.Equal(0, body.GetProperty("count").GetInt32());
        Assert.Equal("pong", pong.GetProperty("type").GetString());
    }

    [Fact]
    public async Task MinDataRate_BodySentSlowerThanRate_RequestCutOff()
    {
        using var ends = new KestrelConnectionEnds();
        await using var host = await TestServerHost.StartOnLoopbackAsync(new() { ["Brummerq:MinDataRateBytesPerSecond"] = "1000" });
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(host.BaseAddress.Host, host.BaseAddress.Port, TestContext.Current.CancellationToken);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("POST /api/channels/slow/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000\r\n\r\n{\"payload\":\""), TestContext.Current.CancellationToken);
        var cutOff = ends.EndedAsync("min_request_body_data_rate", TimeSpan.FromSeconds(15));

        // About 500 bytes per second: above Kestrel's default of 240, below the configured 1,000, so it is
        // the setting that cuts it off once the 5-second grace has passed.
        var chunk = Encoding.ASCII.GetBytes(new string('x', 50));
        while (!cutOff.IsCompleted)
        {
            try
            {
                await stream.WriteAsync(chunk, TestContext.Current.CancellationToken);
            }
            catch (IOException)
            {
                // The server hung up.
            }

            await Task.WhenAny(cutOff, Task.Delay(100, TestContext.Current.CancellationToken));
        }

        await cutOff;
        Assert.Equal(0, host.Queue.GetStats().MessagesSent);
    }
}
