using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text.Json;
using BrummerQueue.Server.Hosting;
using BrummerQueue.Server.Tests.Cli;
using BrummerQueue.Server.Tests.Limits;
using BrummerQueue.Server.Tests.Mcp;
using BrummerQueue.Server.Tests.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Client;

namespace BrummerQueue.Server.Tests.Security;

/// <summary>
/// <c>--token</c> on every surface (SPEC.md section 5): refused without it or with a wrong one, with a clear
/// message and code; served with it; never logged. And the refusal to serve on the network without one.
/// </summary>
public sealed class TokenTests
{
    private const string Token = "s3cret-T0ken-42";

    [Theory]
    [InlineData("/api/stats")]
    [InlineData("/api/channels")]
    [InlineData("/metrics")]
    [InlineData("/mcp")]
    [InlineData("/an/endpoint/added/later")]
    public async Task Surface_NoOrWrongToken_401ProblemSayingWhatToSend(string path)
    {
        await using var host = await TestServerHost.StartInProcessAsync(new() { ["Brummerq:Token"] = Token });
        using var client = host.CreateHttpClient();

        var (missing, missingProblem) = await GetAsync(client, path, null);
        var (wrong, wrongProblem) = await GetAsync(client, path, "guess");

        Assert.Equal(HttpStatusCode.Unauthorized, missing);
        Assert.Equal("unauthorized", missingProblem.GetProperty("code").GetString());
        Assert.Contains("needs its token", missingProblem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("Authorization: Bearer <token>", missingProblem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong);
        Assert.Contains("refused the token given", wrongProblem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/api/stats")]
    [InlineData("/metrics")]
    public async Task Surface_BearerToken_Served(string path)
    {
        await using var host = await TestServerHost.StartInProcessAsync(new() { ["Brummerq:Token"] = Token }, LimitMetrics.OwnMeter);
        using var client = host.CreateHttpClient();

        var (status, _) = await GetAsync(client, path, Token);

        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task Metrics_QueryToken_RefusedHeaderOnly()
    {
        await using var host = await TestServerHost.StartInProcessAsync(new() { ["Brummerq:Token"] = Token });
        using var client = host.CreateHttpClient();

        using var response = await client.GetAsync(new Uri("/metrics?token=" + Uri.EscapeDataString(Token), UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Api_QueryToken_Served()
    {
        await using var host = await TestServerHost.StartInProcessAsync(new() { ["Brummerq:Token"] = Token });
        using var client = host.CreateHttpClient();

        using var response = await client.GetAsync(new Uri("/api/stats?token=" + Uri.EscapeDataString(Token), UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task HealthAndDashboardPage_TokenSet_StayOpen()
    {
        await using var host = await TestServerHost.StartInProcessAsync(new() { ["Brummerq:Token"] = Token });
        using var client = host.CreateHttpClient();

        using var health = await client.GetAsync(new Uri("/healthz", UriKind.Relative), TestContext.Current.CancellationToken);
        using var page = await client.GetAsync(new Uri("/", UriKind.Relative), TestContext.Current.CancellationToken);
        using var script = await client.GetAsync(new Uri("/__brummer_ws__/client.js", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
    }

    [Theory]
    [InlineData("")]
    [InlineData("?token=guess")]
    public async Task WebSocket_NoOrWrongToken_ErrorFrameThenClose4401(string query)
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync(new() { ["Brummerq:Token"] = Token });

        await using var socket = await TestSocket.OpenAsync(host, query);
        var error = (await socket.ReceiveAsync("error")).GetProperty("data");
        var (status, reason) = await socket.ReceiveCloseAsync();

        Assert.Equal("unauthorized", error.GetProperty("code").GetString());
        Assert.Contains(query.Length == 0 ? "needs its token" : "refused the token given", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("?token=<token>", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(4401, (int?)status);
        Assert.StartsWith(query.Length == 0 ? "token required: " : "token refused: ", reason, StringComparison.Ordinal);
        Assert.DoesNotContain("guess", reason, StringComparison.Ordinal);
        Assert.Equal(0, host.Queue.GetStats().TotalSubscriptions);
    }

    [Theory]
    [InlineData("/__brummer_ws__/")]
    [InlineData("/__BRUMMER_WS__")]
    public async Task WebSocket_PathSpelledOtherwise_StillNeedsToken(string path)
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync(new() { ["Brummerq:Token"] = Token });
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;

        await socket.ConnectAsync(new UriBuilder(host.BaseAddress) { Scheme = "ws", Path = path }.Uri, TestContext.Current.CancellationToken);
        var buffer = new byte[4096];
        var first = await socket.ReceiveAsync(buffer, TestContext.Current.CancellationToken);
        var frame = JsonDocument.Parse(buffer.AsMemory(0, first.Count)).RootElement;

        Assert.Equal("error", frame.GetProperty("type").GetString());
        Assert.Equal("unauthorized", frame.GetProperty("data").GetProperty("code").GetString());
    }

    [Fact]
    public async Task WebSocket_TokenInQueryOrBearerHeader_Connected()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync(new() { ["Brummerq:Token"] = Token });

        var (byQuery, greeting) = await TestSocket.ConnectAsync(host, "?token=" + Uri.EscapeDataString(Token));
        await using var _ = byQuery;
        var (byHeader, _) = await TestSocket.ConnectAsync(host, configure: o => o.SetRequestHeader("Authorization", "Bearer " + Token));
        await using var __ = byHeader;

        Assert.Equal("brummerq", greeting.GetProperty("data").GetProperty("server").GetString());
        Assert.Equal("ack", (await byHeader.RequestAsync("queue_message", "m", new { channel = "c" })).GetProperty("type").GetString());
    }

    [Fact]
    public async Task WebSocketPath_PlainGetWithoutToken_401Problem()
    {
        await using var host = await TestServerHost.StartInProcessAsync(new() { ["Brummerq:Token"] = Token });
        using var client = host.CreateHttpClient();

        var (status, problem) = await GetAsync(client, "/__brummer_ws__", null);

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("unauthorized", problem.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Mcp_SdkClientWithBearerToken_ToolsWork()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync(new() { ["Brummerq:Token"] = Token });
        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(host.BaseAddress, "/mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + Token },
        });
        await using var client = await McpClient.CreateAsync(transport, cancellationToken: TestContext.Current.CancellationToken);

        await client.CallOkAsync("queue_send", """{"channel":"auth","payload":1}""");

        Assert.Equal(1, host.Queue.GetStats().MessagesSent);
    }

    [Fact]
    public async Task Logs_TokenSetAndUsedRightAndWrongOnEverySurface_TokenNeverLoggedEvenAtTrace()
    {
        var logs = new CapturedLogs();
        await using var host = await TestServerHost.StartOnLoopbackAsync(
            new()
            {
                ["Brummerq:Token"] = Token,
                ["Logging:LogLevel:Default"] = "Trace",
                ["Logging:LogLevel:Microsoft"] = "Trace",
                ["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace",
                ["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"] = "Trace",
                ["Logging:LogLevel:ModelContextProtocol"] = "Trace",
            },
            b =>
            {
                b.Logging.SetMinimumLevel(LogLevel.Trace);
                b.Logging.AddProvider(logs);
            });
        var escaped = Uri.EscapeDataString(Token);
        using var http = host.CreateHttpClient();
        foreach (var token in new[] { Token, Token + "x" })
        {
            var escapedTry = Uri.EscapeDataString(token);
            (await http.GetAsync(new Uri(host.BaseAddress, "/api/stats?token=" + escapedTry), TestContext.Current.CancellationToken)).Dispose();
            (await http.GetAsync(new Uri(host.BaseAddress, "/metrics?token=" + escapedTry), TestContext.Current.CancellationToken)).Dispose();
            await GetAsync(http, "/api/channels", token);
            await GetAsync(http, "/metrics", token);
            await GetAsync(http, "/mcp", token);
            await using var socket = await TestSocket.OpenAsync(host, "?token=" + escapedTry);
            await socket.ReceiveAsync();
        }

        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(host.BaseAddress, "/mcp"),
            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + Token },
        });
        await using (var client = await McpClient.CreateAsync(transport, cancellationToken: TestContext.Current.CancellationToken))
        {
            await client.CallOkAsync("queue_send", """{"channel":"log","payload":1}""");
        }

        Assert.NotEmpty(logs.Lines);
        Assert.Contains(logs.Lines, l => l.StartsWith("Trace", StringComparison.Ordinal) || l.StartsWith("Debug", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Lines, l => l.Contains(Token, StringComparison.Ordinal) || l.Contains(escaped, StringComparison.Ordinal) || l.Contains("s3cret", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("::")]
    [InlineData("192.168.1.20")]
    public async Task Serve_NonLoopbackHostWithoutToken_RefusesToStartNamingTokenAndInsecureFlag(string address)
    {
        var (exitCode, _, error) = await CliRunner.RunAsync("serve", "--host", address, "--port", "0");

        Assert.Equal(2, exitCode);
        Assert.Contains($"Refusing to serve on {address} without a token", error.Text, StringComparison.Ordinal);
        Assert.Contains("--token or BRUMMERQ_TOKEN", error.Text, StringComparison.Ordinal);
        Assert.Contains("--insecure-no-token", error.Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Brummerq:Token", Token)]
    [InlineData("Brummerq:InsecureNoToken", "true")]
    public async Task Start_AnyInterfaceWithTokenOrInsecureNoToken_Serves(string key, string value)
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync(new() { ["Brummerq:Host"] = "0.0.0.0", [key] = value });

        Assert.Equal("0.0.0.0", host.Services.GetRequiredService<IOptions<ServerOptions>>().Value.Host);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.2")]
    [InlineData("::1")]
    public async Task Start_LoopbackWithoutToken_Serves(string address)
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync(new() { ["Brummerq:Host"] = address });

        Assert.Null(host.Services.GetRequiredService<IOptions<ServerOptions>>().Value.Token);
    }

    [Fact]
    public void InsecureNoToken_BareSwitch_TurnsItOn()
    {
        var command = new System.CommandLine.Command("serve");
        var flags = new BrummerQueue.Server.Cli.SettingFlags(command);

        var settings = flags.ToConfiguration(command.Parse(["--insecure-no-token"]));

        Assert.Equal("true", settings["Brummerq:InsecureNoToken"]);
    }

    [Fact]
    public async Task Attach_TokenFromEnvironment_ForwardsToolsAndNeverPrintsIt()
    {
        var port = BrummerqProcess.FreePort();
        await using var host = await TestServerHost.StartOnLoopbackAsync(new() { ["Brummerq:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture), ["Brummerq:Token"] = Token });
        var stderr = new List<string>();

        await using (var attached = await BrummerqProcess.ConnectStdioAsync(port, stderr, new() { ["BRUMMERQ_TOKEN"] = Token }))
        {
            await attached.CallOkAsync("queue_send", """{"channel":"attached","payload":"hi"}""");
        }

        Assert.Equal(1, host.Queue.GetStats().MessagesSent);
        lock (stderr)
        {
            Assert.Contains(stderr, l => l.Contains("Attached to the brummerq at", StringComparison.Ordinal));
            Assert.DoesNotContain(stderr, l => l.Contains(Token, StringComparison.Ordinal));
        }
    }

    private static async Task<(HttpStatusCode Status, JsonElement Problem)> GetAsync(HttpClient client, string path, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(client.BaseAddress!, path));
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var problem = response.Content.Headers.ContentType?.MediaType == "application/problem+json" ? JsonDocument.Parse(body).RootElement.Clone() : default;
        return (response.StatusCode, problem);
    }
}
