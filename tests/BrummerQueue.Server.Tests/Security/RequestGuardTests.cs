using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using BrummerQueue.Server.Tests.WebSockets;

namespace BrummerQueue.Server.Tests.Security;

public sealed class RequestGuardTests
{
    [Theory]
    [InlineData("https://evil.example")]
    [InlineData("http://localhost.evil.example:8080")]
    [InlineData("null")]
    public async Task WebSocket_ForeignOrigin_Refused403(string origin)
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();

        var status = await TestSocket.TryConnectAsync(host, configure: o => o.SetRequestHeader("Origin", origin));

        Assert.Equal(HttpStatusCode.Forbidden, status);
    }

    [Theory]
    [InlineData("http://localhost:3000")]
    [InlineData("http://127.0.0.1:5173")]
    [InlineData("https://[::1]:8443")]
    [InlineData("http://localhost")]
    public async Task WebSocket_LoopbackOriginAnyPort_Accepted(string origin)
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();

        var status = await TestSocket.TryConnectAsync(host, configure: o => o.SetRequestHeader("Origin", origin));

        Assert.Equal(HttpStatusCode.SwitchingProtocols, status);
    }

    [Fact]
    public async Task WebSocket_ConfiguredAllowedOrigin_Accepted()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync(new() { ["Brummerq:AllowedOrigins:0"] = "https://app.example.com/" });

        var allowed = await TestSocket.TryConnectAsync(host, configure: o => o.SetRequestHeader("Origin", "https://APP.example.com"));
        var otherPort = await TestSocket.TryConnectAsync(host, configure: o => o.SetRequestHeader("Origin", "https://app.example.com:444"));

        Assert.Equal(HttpStatusCode.SwitchingProtocols, allowed);
        Assert.Equal(HttpStatusCode.Forbidden, otherPort);
    }

    [Fact]
    public async Task WebSocket_NoOrigin_Accepted()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();

        Assert.Equal(HttpStatusCode.SwitchingProtocols, await TestSocket.TryConnectAsync(host));
    }

    [Theory]
    [InlineData("/api/channels/c/messages")]
    [InlineData("/mcp")]
    [InlineData("/__brummer_ws__")]
    public async Task Post_ForeignOrigin_Refused403WithProblem(string path)
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();
        using var client = host.CreateHttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(host.BaseAddress, path)) { Content = new StringContent("""{"payload":1}""", Encoding.UTF8, "text/plain") };
        request.Headers.Add("Origin", "https://evil.example");

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0, host.Queue.GetStats().MessagesSent);
    }

    [Fact]
    public async Task Post_ForeignOrigin_LogsOneInformationLineSayingHowToAllowIt()
    {
        var logs = new LogCapture();
        await using var host = await TestServerHost.StartOnLoopbackAsync(configure: logs.InstallWithDebug);
        using var client = host.CreateHttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(host.BaseAddress, "/mcp")) { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        request.Headers.Add("Origin", "https://app.example:3000");

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Empty(logs.Faults());
        var line = Assert.Single(logs.WithEventId(4301));
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Information, line.Level);
        Assert.Equal("Refused Origin 'https://app.example:3000' for /mcp; to allow pages from it, start brummerq with --allowed-origin https://app.example:3000 (or BRUMMERQ_ALLOWED_ORIGINS)", line.Message);
    }

    [Fact]
    public async Task Get_ForeignHost_LogsOneInformationLineSayingHowToAcceptIt()
    {
        var logs = new LogCapture();
        await using var host = await TestServerHost.StartOnLoopbackAsync(configure: logs.InstallWithDebug);
        using var client = host.CreateHttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(host.BaseAddress, "/api/stats"));
        request.Headers.Host = "queue.example:8080";

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Empty(logs.Faults());
        var line = Assert.Single(logs.WithEventId(4300));
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Information, line.Level);
        Assert.Equal("Refused Host 'queue.example:8080' for /api/stats (DNS-rebinding protection); to accept that name, start brummerq with --allowed-host-name queue.example (or BRUMMERQ_ALLOWED_HOST_NAMES)", line.Message);
    }

    [Theory]
    [InlineData("evil.example")]
    [InlineData("rebind.attacker.test:8080")]
    public async Task AnyPath_ForeignHost_Refused403(string hostHeader)
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();
        using var client = host.CreateHttpClient();
        foreach (var path in new[] { "/api/stats", "/mcp", "/__brummer_ws__" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(host.BaseAddress, path));
            request.Headers.Host = hostHeader;

            using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("127.0.0.1:1234")]
    [InlineData("[::1]:8080")]
    [InlineData("192.168.1.20:8080")]
    [InlineData("queue.internal")]
    public async Task Api_ServerNames_Accepted(string hostHeader)
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync(new() { ["Brummerq:AllowedHostNames:0"] = "queue.internal" });
        using var client = host.CreateHttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(host.BaseAddress, "/api/stats"));
        request.Headers.Host = hostHeader;

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Mcp_TokenSet_NeedsBearerHeader()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync(new() { ["Brummerq:Token"] = "s3cret" });
        using var client = host.CreateHttpClient();

        using var none = await client.PostAsync(new Uri(host.BaseAddress, "/mcp"), new StringContent("{}"), TestContext.Current.CancellationToken);
        using var query = await client.PostAsync(new Uri(host.BaseAddress, "/mcp?token=s3cret"), new StringContent("{}"), TestContext.Current.CancellationToken);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(host.BaseAddress, "/mcp")) { Content = new StringContent("{}") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "s3cret");
        using var bearer = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal("Bearer", none.Headers.WwwAuthenticate.ToString());
        Assert.Equal(HttpStatusCode.Unauthorized, query.StatusCode);
        Assert.NotEqual(HttpStatusCode.Unauthorized, bearer.StatusCode);
    }

    [Fact]
    public async Task Api_TokenSet_NeedsTokenButHealthDoesNot()
    {
        await using var host = await TestServerHost.StartInProcessAsync(new() { ["Brummerq:Token"] = "s3cret" });
        using var client = host.CreateHttpClient();

        using var none = await client.GetAsync(new Uri("/api/stats", UriKind.Relative), TestContext.Current.CancellationToken);
        using var query = await client.GetAsync(new Uri("/api/stats?token=s3cret", UriKind.Relative), TestContext.Current.CancellationToken);
        using var health = await client.GetAsync(new Uri("/healthz", UriKind.Relative), TestContext.Current.CancellationToken);
        using var metrics = await client.GetAsync(new Uri("/metrics", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal(HttpStatusCode.OK, query.StatusCode);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, metrics.StatusCode);
    }

    [Fact]
    public async Task Preflight_LoopbackOrigin_AnswersCors()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var client = host.CreateHttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Options, new Uri("/api/channels/c/messages", UriKind.Relative));
        request.Headers.Add("Origin", "http://localhost:3000");
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "content-type");

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("http://localhost:3000", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("POST", response.Headers.GetValues("Access-Control-Allow-Methods").Single(), StringComparison.Ordinal);
    }
}
