using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using BrummerQueue.Server.Tests.Mcp;
using ModelContextProtocol.Client;

namespace BrummerQueue.Server.Tests.Cli;

/// <summary>
/// The real <c>brummerq</c> process on SIGTERM or SIGINT (Ctrl-C), sent with <c>/bin/kill</c> as a service manager does:
/// waiting receives answer empty, sockets close with 1001, and the process exits 0 within 5 seconds.
/// </summary>
public sealed class ShutdownProcessTests
{
    private static readonly TimeSpan s_exitLimit = TimeSpan.FromSeconds(5);

    [Theory]
    [InlineData("TERM")]
    [InlineData("INT")]
    public async Task Serve_SigtermOrCtrlC_WaitingReceivesAnswerEmptySocketCloses1001Exit0Within5s(string signal)
    {
        var ct = TestContext.Current.CancellationToken;
        var port = BrummerqProcess.FreePort();
        using var process = BrummerqProcess.Start("serve", "--port", port.ToString(CultureInfo.InvariantCulture));
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await WaitForLineAsync(process.StandardOutput, "Application started", stderr);
        Assert.False(signal == "INT" && Ignores(process.Id, 2), "the brummerq process ignores SIGINT, inherited from this test run's environment " +
            "(a job started in the background without job control ignores it): start the tests with SIGINT not ignored");
        var baseAddress = new Uri($"http://127.0.0.1:{port}/");
        using var http = new HttpClient { BaseAddress = baseAddress };

        var mcp = await McpClient.CreateAsync(
            new HttpClientTransport(new HttpClientTransportOptions { Endpoint = new Uri(baseAddress, "/mcp") }),
            new McpClientOptions(),
            cancellationToken: ct);
        var mcpReceive = mcp.CallOkAsync("queue_receive", """{"channel":"wait","blocking":true,"timeout":120}""");
        var longPoll = http.GetAsync("api/channels/wait/messages?timeout=120", ct);
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/__brummer_ws__"), ct);
        var frames = new FrameReader(socket);
        Assert.Equal("connected", (await frames.NextAsync()).GetProperty("type").GetString());
        await SendAsync(socket, """{"type":"queue_receive","id":"r","data":{"channel":"wait","blocking":true,"timeout":120}}""");
        await SendAsync(socket, """{"type":"ping","id":"p"}""");
        Assert.Equal("pong", (await frames.NextAsync()).GetProperty("type").GetString());

        var clock = Stopwatch.StartNew();
        Kill(signal, process.Id);
        var wsReply = await frames.NextAsync();
        var close = await frames.CloseAsync();
        var mcpResult = await mcpReceive.WaitAsync(s_exitLimit, ct);
        using var pollResponse = await longPoll.WaitAsync(s_exitLimit, ct);
        var pollResult = await pollResponse.Content.ReadFromJsonAsync<JsonElement>(ct);
        await process.WaitForExitAsync(ct).WaitAsync(s_exitLimit, ct);
        var exitAfter = clock.Elapsed;
        try
        {
            await mcp.DisposeAsync();
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
        {
            // The server is gone; the client's DELETE finds no one.
        }

        Assert.Equal("messages", wsReply.GetProperty("type").GetString());
        Assert.Equal("r", wsReply.GetProperty("id").GetString());
        Assert.Equal(0, wsReply.GetProperty("data").GetProperty("count").GetInt32());
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, close);
        Assert.Equal(0, mcpResult.GetProperty("count").GetInt32());
        Assert.Equal(0, pollResult.GetProperty("count").GetInt32());
        Assert.True(exitAfter < s_exitLimit, $"exited after {exitAfter}");
        Assert.True(process.ExitCode == 0, $"exit code {process.ExitCode}; stderr: {await stderr}");
    }

    [Fact]
    public async Task Mcp_SigtermDuringBlockingReceive_AnswersEmptyAndExits0Within5s()
    {
        var ct = TestContext.Current.CancellationToken;
        var port = BrummerqProcess.FreePort();
        using var process = BrummerqProcess.Start("mcp", "--port", port.ToString(CultureInfo.InvariantCulture));
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.StandardInput.WriteAsync(
            """
            {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"term","version":"1"}}}
            {"jsonrpc":"2.0","method":"notifications/initialized"}
            {"jsonrpc":"2.0","id":"wait","method":"tools/call","params":{"name":"queue_receive","arguments":{"channel":"wait","blocking":true,"timeout":120}}}
            {"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"queue_stats","arguments":{}}}

            """.AsMemory(),
            ct);
        await process.StandardInput.FlushAsync(ct);
        // Requests are read in order: once the later one is answered, the receive is under way.
        await ReadAnswerAsync(process.StandardOutput, "3", stderr);

        var clock = Stopwatch.StartNew();
        Kill("TERM", process.Id);
        var wait = await ReadAnswerAsync(process.StandardOutput, "\"wait\"", stderr);
        await process.WaitForExitAsync(ct).WaitAsync(s_exitLimit, ct);
        var exitAfter = clock.Elapsed;

        Assert.Equal(0, ToolResult(wait).GetProperty("count").GetInt32());
        Assert.True(exitAfter < s_exitLimit, $"exited after {exitAfter}");
        Assert.True(process.ExitCode == 0, $"exit code {process.ExitCode}; stderr: {await stderr}");
    }

    [Fact]
    public async Task Mcp_EndOfInput_Exits0Promptly()
    {
        var ct = TestContext.Current.CancellationToken;
        var port = BrummerqProcess.FreePort();
        using var process = BrummerqProcess.Start("mcp", "--port", port.ToString(CultureInfo.InvariantCulture));
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.StandardInput.WriteAsync(
            """
            {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"eof","version":"1"}}}

            """.AsMemory(),
            ct);
        await process.StandardInput.FlushAsync(ct);
        await ReadAnswerAsync(process.StandardOutput, "1", stderr);

        var clock = Stopwatch.StartNew();
        process.StandardInput.Close();
        await process.WaitForExitAsync(ct).WaitAsync(s_exitLimit, ct);

        Assert.True(clock.Elapsed < s_exitLimit, $"exited after {clock.Elapsed}");
        Assert.True(process.ExitCode == 0, $"exit code {process.ExitCode}; stderr: {await stderr}");
    }

    /// <summary>Whether process <paramref name="pid"/> ignores signal number <paramref name="signal"/> (<c>SigIgn</c> in /proc; false where there is none).</summary>
    private static bool Ignores(int pid, int signal)
    {
        var status = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/status";
        if (!File.Exists(status))
        {
            return false;
        }

        var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (ulong.Parse(line["SigIgn:".Length..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture) & (1UL << (signal - 1))) != 0;
    }

    private static void Kill(string signal, int pid)
    {
        using var kill = Process.Start("/bin/kill", ["-" + signal, pid.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    private static Task SendAsync(ClientWebSocket socket, string json) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, true, TestContext.Current.CancellationToken);

    private static async Task WaitForLineAsync(StreamReader reader, string text, Task<string> stderr)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while (true)
        {
            var line = await reader.ReadLineAsync(timeout.Token) ?? throw new InvalidOperationException("brummerq ended before '" + text + "'; stderr: " + await stderr);
            if (line.Contains(text, StringComparison.Ordinal))
            {
                _ = reader.ReadToEndAsync(TestContext.Current.CancellationToken);
                return;
            }
        }
    }

    /// <summary>The next JSON-RPC answer with id <paramref name="id"/> (raw JSON) on stdout; other lines are skipped.</summary>
    private static async Task<JsonElement> ReadAnswerAsync(StreamReader stdout, string id, Task<string> stderr)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while (true)
        {
            var line = await stdout.ReadLineAsync(timeout.Token) ?? throw new InvalidOperationException($"stdout ended before the answer to {id}; stderr: " + await stderr);
            var message = JsonDocument.Parse(line).RootElement.Clone();
            if (message.TryGetProperty("id", out var answered) && answered.GetRawText() == id)
            {
                return message;
            }
        }
    }

    private static JsonElement ToolResult(JsonElement answer) => answer.GetProperty("result").GetProperty("structuredContent");

    /// <summary>Reads whole frames of a raw <see cref="ClientWebSocket"/> with a timeout that fails the test.</summary>
    private sealed class FrameReader(ClientWebSocket socket)
    {
        private readonly byte[] _buffer = new byte[1 << 20];

        public async Task<JsonElement> NextAsync()
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            timeout.CancelAfter(s_exitLimit);
            var count = 0;
            while (true)
            {
                var result = await socket.ReceiveAsync(_buffer.AsMemory(count), timeout.Token);
                Assert.NotEqual(WebSocketMessageType.Close, result.MessageType);
                count += result.Count;
                if (result.EndOfMessage)
                {
                    return JsonDocument.Parse(_buffer.AsMemory(0, count)).RootElement.Clone();
                }
            }
        }

        public async Task<WebSocketCloseStatus?> CloseAsync()
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            timeout.CancelAfter(s_exitLimit);
            while (true)
            {
                var result = await socket.ReceiveAsync(_buffer.AsMemory(), timeout.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
                    return socket.CloseStatus;
                }
            }
        }
    }
}
