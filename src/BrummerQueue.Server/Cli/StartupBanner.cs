using BrummerQueue.Server.Hosting;
using BrummerQueue.Server.Mcp;
using BrummerQueue.Server.Settings;
using BrummerQueue.Server.WebSockets;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace BrummerQueue.Server.Cli;

/// <summary>
/// What <c>brummerq serve</c> prints on stderr once it listens: where each face is, with the real port (also when
/// <c>--port 0</c> chose one), a copyable <c>claude mcp add</c> line, whether a token is required, which settings
/// file was read and which store keeps the queue (in memory, or the Redis endpoints). The token itself is never printed (<c>&lt;token&gt;</c> stands for it), as it is never logged.
/// </summary>
internal static class StartupBanner
{
    /// <summary>The address to reach the started server of <paramref name="services"/> from this machine, with the port it actually listens on.</summary>
    public static Uri BaseAddress(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<ServerOptions>>().Value;
        var addresses = services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
        var port = addresses?.Select(a => Uri.TryCreate(a.Replace("://+", "://localhost", StringComparison.Ordinal), UriKind.Absolute, out var uri) ? uri.Port : -1).FirstOrDefault(p => p > 0) is { } actual and > 0
            ? actual
            : options.Port;
        return PortProbe.BaseAddress(options.Host, port);
    }

    /// <summary>The banner's lines for a server reached at <paramref name="baseAddress"/>.</summary>
    public static IReadOnlyList<string> Lines(Uri baseAddress, ServerOptions options, SettingsFile settingsFile)
    {
        var tokenRequired = !string.IsNullOrEmpty(options.Token);
        var mcp = new Uri(baseAddress, BrummerMcpServer.Path);
        var socket = new UriBuilder(new Uri(baseAddress, WebSocketEndpoint.Path)) { Scheme = "ws" }.Uri;
        var claude = $"claude mcp add --transport http brummerq {mcp}" + (tokenRequired ? " --header \"Authorization: Bearer <token>\"" : string.Empty);
        var token = tokenRequired
            ? "required: Authorization: Bearer <token> (the WebSocket and /api also take ?token=<token>)"
            : ServerOptionsValidator.IsLoopback(options.Host)
                ? "not required (loopback only: only this machine can connect)"
                : $"not required (--insecure-no-token: anyone who can reach {options.Host} may use the queue)";
        return
        [
            $"brummerq {BrummerMcpServer.Version} serving on {baseAddress} (Ctrl+C stops it)",
            $"  dashboard    {baseAddress}" + (tokenRequired ? " (open it once as /?token=<token>)" : string.Empty),
            $"  MCP          {mcp}",
            $"  WebSocket    {socket}",
            $"  token        {token}",
            $"  settings     {settingsFile.Describe()}",
            $"  store        {Store(options)}",
            $"  Claude Code  {claude}",
        ];
    }

    /// <summary>The store line: <c>memory (this process only)</c> or <c>redis HOST:PORT</c> (endpoints only: a configuration string may hold a password).</summary>
    private static string Store(ServerOptions options) => options.UsesRedis && options.Redis is { } redis
        ? $"redis {BrummerQueue.Redis.RedisStore.Endpoints(redis)} (shared with every node given the same Redis database)"
        : "memory (this process only)";

    /// <summary>Writes the banner of the started <paramref name="services"/>' server to <paramref name="error"/> (stderr).</summary>
    public static void Write(IServiceProvider services, SettingsFile settingsFile, TextWriter error)
    {
        var options = services.GetRequiredService<IOptions<ServerOptions>>().Value;
        foreach (var line in Lines(BaseAddress(services), options, settingsFile))
        {
            error.WriteLine(line);
        }

        error.Flush();
    }
}
