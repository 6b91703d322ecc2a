using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using BrummerQueue.Core;
using BrummerQueue.Server.Cli;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace BrummerQueue.Server.Tests.Cli;

/// <summary><c>brummerq send</c>, <c>tail</c> and <c>stats</c> against a running loopback server.</summary>
public sealed class ClientCommandsTests
{
    [Fact]
    public async Task Send_ValidPayload_PrintsStoredMessageJson()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();

        var (exitCode, output, error) = await CliRunner.RunAsync("send", "cli/orders", """{"id":7}""", "--type", "created", "--ttl", "60", "--url", host.BaseAddress.ToString());

        Assert.True(exitCode == 0, error.Text);
        using var message = JsonDocument.Parse(await output.NextLineAsync());
        Assert.Equal("cli/orders", message.RootElement.GetProperty("channel").GetString());
        Assert.Equal("created", message.RootElement.GetProperty("type").GetString());
        Assert.Equal(60, message.RootElement.GetProperty("ttl").GetInt32());
        Assert.Equal("""{"id":7}""", message.RootElement.GetProperty("payload").GetRawText());
        var stored = new List<QueueMessage>();
        host.Queue.Receive("cli/orders", 10, peek: true, stored);
        Assert.Equal(message.RootElement.GetProperty("id").GetString(), Assert.Single(stored).Id.ToString());
    }

    [Fact]
    public async Task Send_PayloadNotJson_ExplainsWithoutParserInternalsAndFails()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();

        var (exitCode, _, error) = await CliRunner.RunAsync("send", "c", "{notjson", "--url", host.BaseAddress.ToString());

        Assert.Equal(2, exitCode);
        Assert.Equal("brummerq send: payload must be a single valid JSON value (at byte 1); to send a string, quote it: '\"text\"'", error.Text.TrimEnd());
        Assert.Equal(0, host.Queue.GetStats().MessagesSent);
    }

    [Theory]
    [InlineData("send", "c", "1", "--ttl", "1.5")]
    [InlineData("send", "c", "1", "--ttl", "soon")]
    [InlineData("tail", "c", "--since-seq", "1.5")]
    public async Task Run_NumericOptionNotInteger_ServerWordingWithoutHelp(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();

        var exitCode = await BrummerCli.RunAsync(args, output, error, TestContext.Current.CancellationToken);

        var rule = args[0] == "send" ? "ttl must be an integer between 0 and 604800" : "since_seq must be an integer of at least 0";
        Assert.Equal(BrummerCli.UsageError, exitCode);
        Assert.Equal([$"brummerq {args[0]}: {rule}", $"Run 'brummerq {args[0]} --help' for usage."], error.ToString().TrimEnd().Split(Environment.NewLine));
        Assert.Equal(string.Empty, output.ToString());
    }

    [Theory]
    [InlineData("send")]
    [InlineData("stats")]
    [InlineData("tail")]
    public async Task Help_ClientCommand_ShowsUrlDefaultOnce(string command)
    {
        var (_, output, _) = await CliRunner.RunAsync(command, "--help");

        var urlLine = Assert.Single(output.Text.Split('\n'), l => l.TrimStart().StartsWith("--url", StringComparison.Ordinal));
        Assert.Single(urlLine.Split("[default:").Skip(1));
    }

    [Fact]
    public async Task Send_ServerRefuses_PrintsProblemDetail()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();

        var (exitCode, _, error) = await CliRunner.RunAsync("send", "c", "1", "--ttl", "99999999", "--url", host.BaseAddress.ToString());

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Contains(": ttl must be an integer between 0 and 604800", error.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_PayloadDeeperThanTheServerParses_PrintsDepthAndPath()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();

        var (exitCode, _, error) = await CliRunner.RunAsync("send", "c", new string('[', 80) + new string(']', 80), "--url", host.BaseAddress.ToString());

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Contains(": body nests deeper than 72 levels at byte 82 (in payload[0]", error.Text, StringComparison.Ordinal);
        Assert.Equal(0, host.Queue.GetStats().MessagesSent);
    }

    [Fact]
    public async Task Send_TokenRequired_UsesTokenOption()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync(new() { ["Brummerq:Token"] = "t0k" });

        var (refused, _, refusedError) = await CliRunner.RunAsync("send", "c", "1", "--url", host.BaseAddress.ToString());
        var (accepted, _, acceptedError) = await CliRunner.RunAsync("send", "c", "1", "--url", host.BaseAddress.ToString(), "--token", "t0k");

        Assert.Equal(1, refused);
        Assert.Contains(": this server needs its token: pass --token or set BRUMMERQ_TOKEN", refusedError.Text, StringComparison.Ordinal);
        Assert.True(accepted == 0, acceptedError.Text);
    }

    [Fact]
    public async Task ClientCommands_TokenMissingOrWrong_TellCliUserWhatToPass()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync(new() { ["Brummerq:Token"] = "t0k" });
        var url = host.BaseAddress.ToString();

        foreach (var args in new[] { new[] { "send", "c", "1" }, ["stats"], ["tail", "c"] })
        {
            var (missing, _, missingError) = await CliRunner.RunAsync([.. args, "--url", url]);
            var (wrong, _, wrongError) = await CliRunner.RunAsync([.. args, "--url", url, "--token", "nope"]);

            Assert.Equal(1, missing);
            Assert.Equal($"brummerq {args[0]}: this server needs its token: pass --token or set BRUMMERQ_TOKEN", missingError.Text.TrimEnd());
            Assert.Equal(1, wrong);
            Assert.Contains("refused the token given (--token or BRUMMERQ_TOKEN)", wrongError.Text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ClientCommands_NoServer_SayServerIsUnreachable()
    {
        var url = $"http://127.0.0.1:{FreePort()}";

        foreach (var args in new[] { new[] { "send", "c", "1" }, ["stats"], ["tail", "c"] })
        {
            var (exitCode, _, error) = await CliRunner.RunAsync([.. args, "--url", url]);

            Assert.Equal(1, exitCode);
            Assert.Contains($"cannot reach a brummerq server at {url}", error.Text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Stats_RunningServer_PrintsTotalsAndChannelTable()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();
        host.Queue.Send("alpha", new MessageDraft());
        host.Queue.Send("alpha", new MessageDraft());
        host.Queue.Send("beta", new MessageDraft());
        host.Queue.Receive("beta", 1, peek: false, new List<QueueMessage>());

        var (exitCode, output, error) = await CliRunner.RunAsync("stats", "--url", host.BaseAddress.ToString());

        Assert.True(exitCode == 0, error.Text);
        var lines = output.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains("sent 3", lines[1], StringComparison.Ordinal);
        Assert.Contains("consumed 1", lines[1], StringComparison.Ordinal);
        Assert.Equal(["CHANNEL", "MESSAGES", "SUBS", "SENT", "CONSUMED", "EXPIRED", "DROPPED"], lines[2].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["alpha", "2", "0", "2", "0", "0", "0"], lines[3].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["beta", "0", "0", "1", "1", "0", "0"], lines[4].Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Stats_LeasesTaken_PrintsTheLeaseTotalsLine()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();
        host.Queue.Send("jobs", new MessageDraft());
        host.Queue.Send("jobs", new MessageDraft());
        var leased = await host.Queue.ReceiveAsync(new ReceiveRequest { Channel = "jobs", Limit = 2, AckTimeoutSeconds = 60 }, TestContext.Current.CancellationToken);
        Assert.Equal(1, host.Queue.Ack("jobs", [leased.Messages[0].Id.ToString()]).Acked);

        var (exitCode, output, error) = await CliRunner.RunAsync("stats", "--url", host.BaseAddress.ToString());

        Assert.True(exitCode == 0, error.Text);
        var lines = output.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal("leases: in flight 1   leased 2   acked 1   redelivered 0   dead-lettered 0", lines[2]);
        Assert.StartsWith("CHANNEL", lines[3], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stats_OpenSubscriptions_PrintsOwnerLastReadAndWhenTheIdleLimitEndsEach()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();
        host.Queue.Subscribe("alpha", new SubscribeOptions { Owner = "mcp:left" });
        host.Queue.Send("alpha", new MessageDraft());
        var subscription = Assert.Single(host.Queue.GetStats().Subscriptions);

        var (exitCode, output, error) = await CliRunner.RunAsync("stats", "--url", host.BaseAddress.ToString());

        Assert.True(exitCode == 0, error.Text);
        var lines = output.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var header = Array.FindIndex(lines, line => line.StartsWith("CHANNEL", StringComparison.Ordinal) && line.Contains("OWNER", StringComparison.Ordinal));
        Assert.True(header > 0, output.Text);
        Assert.Equal(["CHANNEL", "OWNER", "LAST-READ", "BUFFERED", "DROPPED", "IDLE-ENDS"], lines[header].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        string Utc(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        Assert.Equal(
            ["alpha", "mcp_session", Utc(subscription.LastReadAt), "1", "0", Utc(subscription.IdleExpiresAt!.Value)],
            lines[header + 1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Stats_JsonOption_PrintsTheApiJson()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();

        var (exitCode, output, _) = await CliRunner.RunAsync("stats", "--json", "--url", host.BaseAddress.ToString());

        Assert.Equal(0, exitCode);
        using var stats = JsonDocument.Parse(output.Text);
        Assert.Equal(0, stats.RootElement.GetProperty("messages_sent").GetInt64());
    }

    [Fact]
    public async Task Tail_MessagesSent_PrintsOneJsonLineEachUntilCancelled()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();
        var output = new LineCapture();
        var error = new LineCapture();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var tail = CliRunner.StartAsync(output, error, stop.Token, "tail", "live", "--url", host.BaseAddress.ToString());

        Assert.Contains("following 'live'", await error.NextLineAsync(), StringComparison.Ordinal);
        host.Queue.Send("other", new MessageDraft(Payload: JsonPayload.Parse("0")));
        host.Queue.Send("live", new MessageDraft(Payload: JsonPayload.Parse("1")));
        host.Queue.Send("live", new MessageDraft(Type: "second", Payload: JsonPayload.Parse("""{"a":[1,2]}""")));

        using (var first = JsonDocument.Parse(await output.NextLineAsync()))
        using (var second = JsonDocument.Parse(await output.NextLineAsync()))
        {
            Assert.Equal(1, first.RootElement.GetProperty("payload").GetInt32());
            Assert.Equal("live", first.RootElement.GetProperty("channel").GetString());
            Assert.Equal("second", second.RootElement.GetProperty("type").GetString());
            Assert.Equal(2, second.RootElement.GetProperty("seq").GetInt64());
        }

        await stop.CancelAsync();
        Assert.Equal(0, await tail.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Tail_SinceSeq_PrintsRetainedMessagesFirst()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();
        host.Queue.Send("kept", new MessageDraft(Payload: JsonPayload.Parse("1")));
        host.Queue.Send("kept", new MessageDraft(Payload: JsonPayload.Parse("2")));
        var output = new LineCapture();
        var error = new LineCapture();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var tail = CliRunner.StartAsync(output, error, stop.Token, "tail", "kept", "--since-seq", "0", "--url", host.BaseAddress.ToString());

        using (var first = JsonDocument.Parse(await output.NextLineAsync()))
        using (var second = JsonDocument.Parse(await output.NextLineAsync()))
        {
            Assert.Equal(1, first.RootElement.GetProperty("seq").GetInt64());
            Assert.Equal(2, second.RootElement.GetProperty("seq").GetInt64());
        }

        await stop.CancelAsync();
        Assert.Equal(0, await tail.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Tail_InvalidChannel_PrintsServerErrorAndFails()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();

        var (exitCode, _, error) = await CliRunner.RunAsync("tail", "no spaces allowed", "--url", host.BaseAddress.ToString());

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Contains("channel must be 1-128 characters", error.Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("soon")]
    [InlineData("99999999")]
    public async Task Send_TtlBreaksTheRule_ExitsWithTheUsageCodeWhicheverSideRefuses(string ttl)
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();
        var error = new StringWriter();

        var exitCode = await BrummerCli.RunAsync(["send", "c", "1", "--ttl", ttl, "--url", host.BaseAddress.ToString()], new StringWriter(), error, TestContext.Current.CancellationToken);

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Contains("ttl must be an integer between 0 and 604800", error.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, host.Queue.GetStats().MessagesSent);
    }

    [Theory]
    [InlineData("send", "c", "1", "--ttl", "-1", "ttl must be an integer between 0 and 604800")]
    [InlineData("tail", "c", "--since-seq", "-1", null, "since_seq must be an integer of at least 0")]
    public async Task Client_NegativeValue_RefusedWithTheUsageCodeEvenWithNoServerRunning(string command, string channel, string first, string second, string? third, string rule)
    {
        var error = new StringWriter();
        var nobody = $"http://127.0.0.1:{Mcp.BrummerqProcess.FreePort()}/";
        string[] args = third is null ? [command, channel, first, second, "--url", nobody] : [command, channel, first, second, third, "--url", nobody];

        var exitCode = await BrummerCli.RunAsync(args, new StringWriter(), error, TestContext.Current.CancellationToken);

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Contains(rule, error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("cannot reach", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("1.5")]
    public async Task Tail_SinceSeqBreaksTheRule_ExitsWithTheUsageCodeWhicheverSideRefuses(string sinceSeq)
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();
        var error = new StringWriter();

        var exitCode = await BrummerCli.RunAsync(["tail", "c", "--since-seq", sinceSeq, "--url", host.BaseAddress.ToString()], new StringWriter(), error, TestContext.Current.CancellationToken);

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Contains("since_seq must be an integer", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sned", "send")]
    [InlineData("servee", "serve")]
    [InlineData("stat", "stats")]
    [InlineData("tial", "tail")]
    [InlineData("MCP", "mcp")]
    public async Task Run_MistypedCommand_SuggestsTheNearestAndExitsWithTheUsageCode(string typed, string nearest)
    {
        var output = new StringWriter();
        var error = new StringWriter();

        var exitCode = await BrummerCli.RunAsync([typed], output, error, TestContext.Current.CancellationToken);

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Equal([$"brummerq: Unrecognized command or argument '{typed}'; did you mean '{nearest}'?", "Run 'brummerq --help' for usage."], error.ToString().TrimEnd().Split(Environment.NewLine));
        Assert.Equal(string.Empty, output.ToString());
    }

    [Theory]
    [InlineData("snd", "send", "ci", "{}")]
    [InlineData("serv", "serve", "--port", "18397")]
    public async Task Run_MistypedCommandWithArguments_OnlyTheCommandIsNamed(string typed, string nearest, string first, string second)
    {
        var error = new StringWriter();

        var exitCode = await BrummerCli.RunAsync([typed, first, second], new StringWriter(), error, TestContext.Current.CancellationToken);

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Equal([$"brummerq: Unrecognized command or argument '{typed}'; did you mean '{nearest}'?", "Run 'brummerq --help' for usage."], error.ToString().TrimEnd().Split(Environment.NewLine));
    }

    [Fact]
    public async Task Run_MistypedOption_SuggestsTheNearestOption()
    {
        var error = new StringWriter();

        var exitCode = await BrummerCli.RunAsync(["stats", "--jsno"], new StringWriter(), error, TestContext.Current.CancellationToken);

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Contains("brummerq stats: Unrecognized command or argument '--jsno'; did you mean '--json'?", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_MistypedOptionBeforeArguments_NamesTheOptionFirst()
    {
        var error = new StringWriter();

        var exitCode = await BrummerCli.RunAsync(["send", "--tpye", "x", "c", "1"], new StringWriter(), error, TestContext.Current.CancellationToken);

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.StartsWith("brummerq send: Unrecognized option '--tpye'; did you mean '--type'?", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_WordFarFromEveryCommand_SuggestsNothing()
    {
        var error = new StringWriter();

        var exitCode = await BrummerCli.RunAsync(["xyz"], new StringWriter(), error, TestContext.Current.CancellationToken);

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Equal(["brummerq: Unrecognized command or argument 'xyz'.", "Run 'brummerq --help' for usage."], error.ToString().TrimEnd().Split(Environment.NewLine));
    }

    [Theory]
    [InlineData(404)]
    [InlineData(501)]
    [InlineData(200)]
    public async Task ClientCommands_OtherHttpServer_SayItIsNotBrummerq(int status)
    {
        // Another program on the port: every path answers the status (a plain-text body, as python3 -m http.server does).
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var other = builder.Build();
        other.Run(async context =>
        {
            context.Response.StatusCode = status;
            await context.Response.WriteAsync("not here");
        });
        await other.StartAsync(TestContext.Current.CancellationToken);
        var url = other.Urls.First() + "/";

        foreach (var args in new[] { new[] { "send", "c", "1" }, ["stats"], ["stats", "--json"], ["tail", "c"] })
        {
            var (exitCode, output, error) = await CliRunner.RunAsync([.. args, "--url", url]);

            Assert.Equal(ExitCodes.Failed, exitCode);
            Assert.StartsWith($"brummerq {args[0]}: {url} is not a brummerq server: GET /healthz answered HTTP {status} without identifying brummerq", error.Text, StringComparison.Ordinal);
            Assert.Single(error.Text.TrimEnd().Split('\n'));
            Assert.Equal(string.Empty, output.Text);
        }
    }

    [Fact]
    public async Task Tail_OtherWebSocketServer_SaysItIsNotBrummerq()
    {
        // Another program that accepts the WebSocket at brummerq's path but greets otherwise.
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var other = builder.Build();
        other.UseWebSockets();
        other.Map("/__brummer_ws__", async context =>
        {
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            await socket.SendAsync("""{"type":"welcome","data":{"server":"other"}}"""u8.ToArray(), System.Net.WebSockets.WebSocketMessageType.Text, true, context.RequestAborted);
            var buffer = new byte[1024];
            while (!(await socket.ReceiveAsync(buffer, context.RequestAborted)).CloseStatus.HasValue)
            {
            }
        });
        await other.StartAsync(TestContext.Current.CancellationToken);
        var url = other.Urls.First() + "/";

        var (exitCode, output, error) = await CliRunner.RunAsync("tail", "c", "--url", url);

        Assert.Equal(ExitCodes.Failed, exitCode);
        Assert.Equal($"brummerq tail: {url} is not a brummerq server: its WebSocket at /__brummer_ws__ did not greet as brummerq. Check --url (BRUMMERQ_URL) or --host/--port (BRUMMERQ_HOST/BRUMMERQ_PORT).", error.Text.TrimEnd());
        Assert.Equal(string.Empty, output.Text);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
