using System.Net.Sockets;
using System.Text;

namespace BrummerQueue.Server.Tests.Security;

/// <summary>
/// Every Origin and Host rule of SPEC.md section 5 on every surface a browser can reach: <c>/mcp</c>,
/// the WebSocket <c>/__brummer_ws__</c>, the HTTP API, the dashboard <c>/</c> and
/// <c>/__brummer_ws__/client.js</c>. Requests are written by hand on a real socket, so each carries
/// exactly the headers a browser (or a non-browser client) would send.
/// </summary>
public sealed class RequestGuardSurfaceTests(RequestGuardSurfaceTests.Hosts hosts) : IClassFixture<RequestGuardSurfaceTests.Hosts>
{
    public const string Mcp = "mcp";
    public const string WebSocket = "websocket";
    public const string Api = "api";
    public const string Dashboard = "dashboard";
    public const string ClientJs = "client.js";

    private const string ForeignOrigin = "https://evil.example";
    private const string AllowedForeignOrigin = "https://app.example.com";

    public static readonly TheoryData<string> Surfaces = [Mcp, WebSocket, Api, Dashboard, ClientJs];

    public static readonly MatrixTheoryData<string, string> SurfacesAndLoopbackOrigins = new(
        [Mcp, WebSocket, Api, Dashboard, ClientJs],
        ["http://localhost:3000", "http://127.0.0.1:5173", "https://[::1]:8443", "http://localhost"]);

    [Theory]
    [MemberData(nameof(SurfacesAndLoopbackOrigins))]
    public async Task Request_LoopbackOriginAnyPort_Allowed(string surface, string origin)
    {
        var status = await SendAsync(hosts.Default, surface, origin);

        Assert.Equal(Allowed(surface), status);
    }

    [Theory]
    [MemberData(nameof(Surfaces))]
    public async Task Request_ForeignOrigin_Refused403(string surface)
    {
        var status = await SendAsync(hosts.Default, surface, ForeignOrigin);

        Assert.Equal(403, status);
    }

    [Theory]
    [MemberData(nameof(Surfaces))]
    public async Task Request_ForeignOriginNamedInAllowedOrigins_AllowedOthersStillRefused(string surface)
    {
        var named = await SendAsync(hosts.AllowsApp, surface, AllowedForeignOrigin);
        var other = await SendAsync(hosts.AllowsApp, surface, ForeignOrigin);

        Assert.Equal(Allowed(surface), named);
        Assert.Equal(403, other);
    }

    [Theory]
    [MemberData(nameof(Surfaces))]
    public async Task Request_NullOriginByDefault_Refused403(string surface)
    {
        var status = await SendAsync(hosts.Default, surface, "null");

        Assert.Equal(403, status);
    }

    [Theory]
    [MemberData(nameof(Surfaces))]
    public async Task Request_NullOriginNamedInAllowedOrigins_AllowedOthersStillRefused(string surface)
    {
        var nullOrigin = await SendAsync(hosts.AllowsNull, surface, "null");
        var foreign = await SendAsync(hosts.AllowsNull, surface, ForeignOrigin);

        Assert.Equal(Allowed(surface), nullOrigin);
        Assert.Equal(403, foreign);
    }

    [Theory]
    [MemberData(nameof(Surfaces))]
    public async Task Request_HostNotAServerName_Refused403(string surface)
    {
        // DNS rebinding: the attacker's name now resolves to 127.0.0.1, so its page is "same-origin"
        // with the server in the browser's eyes; only the Host header gives it away.
        var port = hosts.Default.BaseAddress.Port;
        var rebound = $"rebind.attacker.test:{port}";

        var withOrigin = await SendAsync(hosts.Default, surface, $"http://{rebound}", rebound);
        var withoutOrigin = await SendAsync(hosts.Default, surface, origin: null, rebound);

        Assert.Equal(403, withOrigin);
        Assert.Equal(403, withoutOrigin);
    }

    [Theory]
    [MemberData(nameof(Surfaces))]
    public async Task Request_NoOriginNonBrowserClient_Allowed(string surface)
    {
        var status = await SendAsync(hosts.Default, surface, origin: null);

        Assert.Equal(Allowed(surface), status);
    }

    /// <summary>The status of an accepted request on <paramref name="surface"/>.</summary>
    private static int Allowed(string surface) => surface == WebSocket ? 101 : 200;

    /// <summary>Sends one request for <paramref name="surface"/> on a new connection and returns the response's status.</summary>
    private static async Task<int> SendAsync(TestServerHost host, string surface, string? origin, string? hostHeader = null)
    {
        var (method, path, headers, body) = surface switch
        {
            Mcp => ("POST", "/mcp", "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n",
                """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"guard-test","version":"1"}}}"""),
            WebSocket => ("GET", "/__brummer_ws__", "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", string.Empty),
            Api => ("GET", "/api/stats", string.Empty, string.Empty),
            Dashboard => ("GET", "/", "Accept: text/html\r\n", string.Empty),
            ClientJs => ("GET", "/__brummer_ws__/client.js", "Accept: */*\r\n", string.Empty),
            _ => throw new ArgumentOutOfRangeException(nameof(surface), surface, "unknown surface"),
        };
        var request = new StringBuilder()
            .Append(method).Append(' ').Append(path).Append(" HTTP/1.1\r\n")
            .Append("Host: ").Append(hostHeader ?? host.BaseAddress.Authority).Append("\r\n")
            .Append(origin is null ? string.Empty : $"Origin: {origin}\r\n")
            .Append(headers)
            .Append(surface == WebSocket ? string.Empty : "Connection: close\r\n")
            .Append("Content-Length: ").Append(Encoding.UTF8.GetByteCount(body)).Append("\r\n\r\n")
            .Append(body)
            .ToString();

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        using var client = new TcpClient();
        await client.ConnectAsync(host.BaseAddress.Host, host.BaseAddress.Port, timeout.Token);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), timeout.Token);
        using var reader = new StreamReader(stream, Encoding.ASCII);
        var statusLine = await reader.ReadLineAsync(timeout.Token);
        Assert.NotNull(statusLine);
        Assert.StartsWith("HTTP/1.1 ", statusLine, StringComparison.Ordinal);
        return int.Parse(statusLine.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>One server per configuration, shared by the class: default, <c>--allowed-origin null</c>, and a named foreign origin.</summary>
    public sealed class Hosts : IAsyncLifetime
    {
        public TestServerHost Default { get; private set; } = null!;

        public TestServerHost AllowsNull { get; private set; } = null!;

        public TestServerHost AllowsApp { get; private set; } = null!;

        public async ValueTask InitializeAsync()
        {
            Default = await TestServerHost.StartOnLoopbackAsync();
            AllowsNull = await TestServerHost.StartOnLoopbackAsync(new() { ["Brummerq:AllowedOrigins:0"] = "null" });
            AllowsApp = await TestServerHost.StartOnLoopbackAsync(new() { ["Brummerq:AllowedOrigins:0"] = AllowedForeignOrigin });
        }

        public async ValueTask DisposeAsync()
        {
            await Default.DisposeAsync();
            await AllowsNull.DisposeAsync();
            await AllowsApp.DisposeAsync();
        }
    }
}
