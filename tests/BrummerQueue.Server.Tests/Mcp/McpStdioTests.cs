using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace BrummerQueue.Server.Tests.Mcp;

/// <summary><c>brummerq mcp</c> as a real process: stdio tools, stdout hygiene, shared HTTP host, attach mode.</summary>
public sealed class McpStdioTests
{
    [Fact]
    public async Task Mcp_StdioClient_ToolsAndPushWorkAndHttpSharesQueue()
    {
        var port = BrummerqProcess.FreePort();
        await using var stdio = await BrummerqProcess.ConnectStdioAsync(port);
        var sent = await stdio.CallOkAsync("queue_send", """{"channel":"from-assistant","payload":{"n":1}}""");
        Assert.Equal(1, sent.GetProperty("message").GetProperty("seq").GetInt64());
        var updated = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var watch = await stdio.SubscribeToResourceAsync(
            "brummerq://channels/from-web",
            (update, _) => { updated.TrySetResult(update.Uri); return ValueTask.CompletedTask; },
            cancellationToken: TestContext.Current.CancellationToken);

        await using var http = await McpClient.CreateAsync(
            new HttpClientTransport(new HttpClientTransportOptions { Endpoint = new Uri($"http://127.0.0.1:{port}/mcp") }),
            new McpClientOptions(),
            cancellationToken: TestContext.Current.CancellationToken);
        var overHttp = await http.CallOkAsync("queue_receive", """{"channel":"from-assistant"}""");
        await http.CallOkAsync("queue_send", """{"channel":"from-web","payload":"hello"}""");
        await updated.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        var overStdio = await stdio.CallOkAsync("queue_receive", """{"channel":"from-web"}""");
        var error = await stdio.CallErrorAsync("queue_send", """{"channel":"c","ttl":1.5}""");

        Assert.Equal(1, overHttp.GetProperty("messages")[0].GetProperty("payload").GetProperty("n").GetInt32());
        Assert.Equal("hello", overStdio.GetProperty("messages")[0].GetProperty("payload").GetString());
        Assert.Contains("ttl must be an integer between 0 and 604800", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mcp_RawSession_StdoutCarriesOnlyJsonRpc()
    {
        var port = BrummerqProcess.FreePort();
        using var process = BrummerqProcess.Start("mcp", "--port", port.ToString(CultureInfo.InvariantCulture));
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        string[] requests =
        [
            """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""",
            """{"jsonrpc":"2.0","method":"notifications/initialized"}""",
            """{"jsonrpc":"2.0","id":2,"method":"tools/list"}""",
            """{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"queue_send","arguments":{"channel":"raw","payload":[1,2]}}}""",
            """{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"queue_receive","arguments":{"channel":"raw","limit":"x"}}}""",
            """{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"queue_stats","arguments":{}}}""",
        ];
        var lines = new List<string>();
        var answered = new HashSet<int>();
        foreach (var request in requests)
        {
            await process.StandardInput.WriteLineAsync(request.AsMemory(), TestContext.Current.CancellationToken);
            await process.StandardInput.FlushAsync(TestContext.Current.CancellationToken);
            using var document = JsonDocument.Parse(request);
            if (!document.RootElement.TryGetProperty("id", out var id))
            {
                continue;
            }

            while (!answered.Contains(id.GetInt32()))
            {
                var line = await process.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken)
                    ?? throw new InvalidOperationException("stdout ended early; stderr: " + await stderr);
                lines.Add(line);
                using var message = JsonDocument.Parse(line);
                if (message.RootElement.TryGetProperty("id", out var answer) && answer.ValueKind == JsonValueKind.Number)
                {
                    answered.Add(answer.GetInt32());
                }
            }
        }

        process.StandardInput.Close();
        var rest = await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        lines.AddRange(rest.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.All(lines, line =>
        {
            using var message = JsonDocument.Parse(line);
            Assert.Equal("2.0", message.RootElement.GetProperty("jsonrpc").GetString());
            Assert.True(message.RootElement.TryGetProperty("id", out _) || message.RootElement.TryGetProperty("method", out _), line);
        });
        Assert.Contains(lines, l => l.Contains("limit must be an integer between 1 and 1000", StringComparison.Ordinal));
        Assert.Equal(0, process.ExitCode);
        Assert.NotEmpty(await stderr);
    }

    [Fact]
    public async Task Mcp_ClientMistakesAndACancelledBlockingReceive_AnsweredWithOneDebugLineEachAndNoWarning()
    {
        var port = BrummerqProcess.FreePort();
        using var process = BrummerqProcess.StartWith(null, new() { ["Logging__LogLevel__BrummerQueue"] = "Debug" }, "mcp", "--port", port.ToString(CultureInfo.InvariantCulture));
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);

        await process.StandardInput.WriteAsync(
            """
            {"jsonrpc":"2.0","id":0,"method":"initialize","params":{}}
            {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"pipe","version":"1"}}}
            {"jsonrpc":"2.0","method":"notifications/initialized"}
            {"jsonrpc":"2.0","id":2,"method":"nope/method"}
            {"jsonrpc":"2.0","id":3,"method":"logging/setLevel","params":{"level":"loud"}}
            {"jsonrpc":"2.0","id":4,"method":"resources/read","params":{"uri":"brummerq://channels/"}}
            {"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"queue_receive","arguments":{"channel":"c","blocking":true,"timeout":120}}}
            {"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":5}}

            """.AsMemory(),
            TestContext.Current.CancellationToken);
        process.StandardInput.Close();
        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        var answers = (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries).ToDictionary(
            line => JsonDocument.Parse(line).RootElement.GetProperty("id").GetRawText(),
            line => line);
        var log = (await stderr).Split('\n');
        Assert.Contains("-32602", answers["0"], StringComparison.Ordinal);
        Assert.Contains("-32601", answers["2"], StringComparison.Ordinal);
        Assert.Contains("-32602", answers["3"], StringComparison.Ordinal);
        Assert.Contains("-32602", answers["4"], StringComparison.Ordinal);
        // The cancelled call's answer may be dropped: end of input ends the session once nothing uncancelled is open.
        Assert.True(!answers.TryGetValue("5", out var cancelled) || cancelled.Contains("was cancelled", StringComparison.Ordinal), cancelled);
        Assert.DoesNotContain(log, l => l.StartsWith("warn:", StringComparison.Ordinal) || l.StartsWith("fail:", StringComparison.Ordinal) || l.StartsWith("crit:", StringComparison.Ordinal) || l.TrimStart().StartsWith("at ", StringComparison.Ordinal));
        Assert.Equal(4, log.Count(l => l.StartsWith("dbug: BrummerQueue.Server.Mcp.McpRequestFilters[303]", StringComparison.Ordinal)));
        Assert.True(log.Count(l => l.StartsWith("dbug: BrummerQueue.Server.Mcp.McpRequestFilters[302]", StringComparison.Ordinal)) == 1, string.Join('\n', log));
        Assert.Equal(0, process.ExitCode);
    }

    [Fact]
    public async Task Mcp_PipedRequestsThenEndOfInput_AnswersEveryRequestBeforeExit()
    {
        var port = BrummerqProcess.FreePort();
        using var process = BrummerqProcess.Start("mcp", "--port", port.ToString(CultureInfo.InvariantCulture));
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);

        // Written at once and closed, as `printf ... | brummerq mcp` does; the blocking receive answers last.
        await process.StandardInput.WriteAsync(
            """
            {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"pipe","version":"1"}}}
            {"jsonrpc":"2.0","method":"notifications/initialized"}
            {"jsonrpc":"2.0","id":"wait","method":"tools/call","params":{"name":"queue_receive","arguments":{"channel":"piped","blocking":true,"timeout":1}}}
            {"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"queue_stats","arguments":{}}}
            {"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"queue_send","arguments":{"channel":"other","payload":1}}}
            """.AsMemory(),
            TestContext.Current.CancellationToken);
        process.StandardInput.Close();
        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        var ids = (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line =>
        {
            using var message = JsonDocument.Parse(line);
            Assert.True(message.RootElement.TryGetProperty("result", out _), line);
            return message.RootElement.GetProperty("id").GetRawText();
        }).ToHashSet();
        Assert.True(ids.SetEquals(["1", "\"wait\"", "2", "3"]), string.Join(", ", ids) + "; stderr: " + await stderr);
        Assert.Equal(0, process.ExitCode);
    }

    [Fact]
    public async Task Mcp_LinesThatAreNotJsonRpc_AreAnsweredWithParseOrInvalidRequestErrorsAndTheSessionGoesOn()
    {
        var port = BrummerqProcess.FreePort();
        using var process = BrummerqProcess.Start("mcp", "--port", port.ToString(CultureInfo.InvariantCulture));
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var input = new MemoryStream();
        void Line(string text) => input.Write(System.Text.Encoding.UTF8.GetBytes(text + "\n"));
        Line("""{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bad-lines","version":"1"}}}""");
        Line("""{"jsonrpc":"2.0","method":"notifications/initialized"}""");
        Line("this is not json");
        Line("""{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"queue_send","arguments":{"channel":"c","payload":{"x": tru}}}}""");
        Line("""[{"jsonrpc":"2.0","id":8,"method":"ping"}]""");
        Line("""{"jsonrpc":"1.0","id":9,"method":"ping"}""");
        Line("""{"jsonrpc":"2.0","id":10,"method":5}""");
        Line("""{"jsonrpc":"2.0","id":11}""");
        input.Write("""{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"queue_send","arguments":{"channel":"c","payload":"caf"""u8);
        input.Write([0xC3, 0x28]);
        input.Write("\"}}}\n"u8);
        Line("""{"jsonrpc":"2.0","id":14,"method":"tools/call","params":{"name":"queue_send","arguments":{"channel":"c","payload":""" + new string('[', 65) + new string(']', 65) + "}}}");
        Line("""{"jsonrpc":"2.0","id":15,"method":"tools/call","params":{"name":"queue_send","arguments":{"channel":"c","payload":""" + new string('[', 100) + new string(']', 100) + "}}}");
        Line("""{"jsonrpc":"2.0","id":13,"method":"ping"}""");

        await process.StandardInput.BaseStream.WriteAsync(input.ToArray(), TestContext.Current.CancellationToken);
        process.StandardInput.Close();
        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        var answers = (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement).ToList();
        var errors = answers.Where(a => a.TryGetProperty("error", out _)).Select(a => (Id: a.GetProperty("id").GetRawText(), Code: a.GetProperty("error").GetProperty("code").GetInt32(), Message: a.GetProperty("error").GetProperty("message").GetString()!)).ToList();
        var context = string.Join("\n", errors) + "\nstderr: " + await stderr;
        Assert.True(errors.Count == 7, context);
        Assert.Equal(("null", -32700), (errors[0].Id, errors[0].Code));
        Assert.StartsWith("Parse error: the line is not valid JSON at byte 1", errors[0].Message, StringComparison.Ordinal);
        Assert.Equal(("7", -32700), (errors[1].Id, errors[1].Code));
        Assert.Contains("(in params.arguments.payload.x)", errors[1].Message, StringComparison.Ordinal);
        Assert.Equal(("null", -32600), (errors[2].Id, errors[2].Code));
        Assert.Contains("batch", errors[2].Message, StringComparison.Ordinal);
        Assert.Equal(("9", -32600, "Invalid Request: jsonrpc must be \"2.0\""), errors[3]);
        Assert.Equal(("10", -32600, "Invalid Request: method must be a string"), errors[4]);
        Assert.Equal(("11", -32600), (errors[5].Id, errors[5].Code));

        // Past the payload limit plus the envelope's levels (docs/mcp.md) the line is not read as a message at all.
        Assert.Equal(("15", -32700), (errors[6].Id, errors[6].Code));
        Assert.Contains("nests deeper than 64 levels", errors[6].Message, StringComparison.Ordinal);

        // A queue_send payload that is not UTF-8 or too deep breaks the payload rule, which the engine checks for every
        // face: a tool error naming payload (the same text as over HTTP and the WebSocket), not a JSON-RPC parse error.
        string ToolError(string id) => answers.Single(a => a.GetProperty("id").GetRawText() == id).GetProperty("result") is var result
            && result.GetProperty("isError").GetBoolean() ? result.GetProperty("content")[0].GetProperty("text").GetString()! : "not an error";
        Assert.StartsWith("payload must be valid UTF-8", ToolError("12"), StringComparison.Ordinal);
        Assert.StartsWith("payload is nested more than 64 levels deep", ToolError("14"), StringComparison.Ordinal);
        Assert.Contains(answers, a => a.GetProperty("id").GetRawText() == "1" && a.TryGetProperty("result", out _));
        Assert.Contains(answers, a => a.GetProperty("id").GetRawText() == "13" && a.TryGetProperty("result", out _));
        Assert.Equal(0, process.ExitCode);
    }

    [Fact]
    public async Task Mcp_SecondProcessOnSamePort_AttachesAndSharesQueue()
    {
        var port = BrummerqProcess.FreePort();
        var attachedErrors = new List<string>();
        var hosting = await BrummerqProcess.ConnectStdioAsync(port);
        var attached = await BrummerqProcess.ConnectStdioAsync(port, attachedErrors);

        var subscription = (await attached.CallOkAsync("queue_subscribe", """{"channel":"coord"}""")).GetProperty("subscription_id").GetString();
        await attached.CallOkAsync("queue_send", """{"channel":"tasks","payload":"from B"}""");
        var fromB = await hosting.CallOkAsync("queue_receive", """{"channel":"tasks"}""");
        var sentByA = await hosting.CallOkAsync("queue_send", """{"channel":"coord","payload":"from A"}""");
        var toB = await attached.CallOkAsync("queue_receive", $$"""{"subscription_id":"{{subscription}}"}""");

        Assert.Equal("from B", fromB.GetProperty("messages")[0].GetProperty("payload").GetString());
        Assert.Equal(1, sentByA.GetProperty("delivered_to").GetInt32());
        Assert.Equal("from A", toB.GetProperty("messages")[0].GetProperty("payload").GetString());
        // The attached process's session owns its subscription: it ends when that process exits.
        await attached.DisposeAsync();
        lock (attachedErrors)
        {
            Assert.Contains(attachedErrors, l => l.Contains("Attached to the brummerq at", StringComparison.Ordinal));
            Assert.DoesNotContain(attachedErrors, l => l.Contains("not found in cache", StringComparison.Ordinal));
        }

        await McpToolsTests.WaitUntilAsync(async () =>
            (await hosting.CallOkAsync("queue_stats")).GetProperty("total_subscriptions").GetInt32() == 0);

        await hosting.DisposeAsync();
    }

    [Fact]
    public async Task Mcp_AttachedBlockingReceiveCancelled_EndsAndLogsNoWarning()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();
        var stderr = new List<string>();
        await using var attached = await BrummerqProcess.ConnectStdioAsync(host.BaseAddress.Port, stderr);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

        var waiting = attached.CallCancellableAsync("queue_receive", """{"channel":"attached","blocking":true,"timeout":120}""", cancel.Token);
        await McpToolsTests.WaitUntilAsync(() => McpToolsTests.ReceiverWaiting(host.Queue));
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await waiting);
        await McpToolsTests.WaitUntilAsync(() => !McpToolsTests.ReceiverWaiting(host.Queue));
        await attached.CallOkAsync("queue_stats");

        lock (stderr)
        {
            Assert.DoesNotContain(stderr, l => l.StartsWith("warn:", StringComparison.Ordinal) || l.StartsWith("fail:", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Mcp_PortServedByAnotherProgram_FailsWithClearMessage()
    {
        var port = BrummerqProcess.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        await using var other = builder.Build();
        other.MapGet("/healthz", () => "fine");
        await other.StartAsync(TestContext.Current.CancellationToken);

        using var process = BrummerqProcess.Start("mcp", "--port", port.ToString(CultureInfo.InvariantCulture));
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.Equal(1, process.ExitCode);
        Assert.Contains($"port {port} on 127.0.0.1 is in use by another program", await stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, await stdout);
    }
}
