using System.Net;
using BrummerQueue.Core;
using BrummerQueue.Redis;
using BrummerQueue.Server.Dashboard;
using BrummerQueue.Server.Http;
using BrummerQueue.Server.Mcp;
using BrummerQueue.Server.Settings;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.Options;

namespace BrummerQueue.Server.Hosting;

/// <summary>
/// Builds the brummerq web application: one <see cref="IMessageQueue"/> shared by every endpoint.
/// Tests build it the same way, with a configuration callback.
/// </summary>
internal static class BrummerHost
{
    // Pool threads created without delay when the store is Redis: more than the synchronous store calls a node has in
    // flight at once when many clients subscribe together (NodeProcessTests.SubscribeStormAtStart_EveryOneSubscribed).
    private const int RedisMinWorkerThreads = 64;

    // Kestrel's own default grace before a data rate is enforced.
    private static readonly TimeSpan s_dataRateGrace = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Creates the builder with brummerq's services; <paramref name="configure"/> may override settings and services.
    /// Settings come from <paramref name="settingsFile"/> (default: <see cref="SettingsFile.InWorkingDirectory"/>), not
    /// from the content root.
    /// </summary>
    public static WebApplicationBuilder CreateBuilder(string[] args, Action<WebApplicationBuilder>? configure = null, SettingsFile? settingsFile = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        (settingsFile ?? SettingsFile.InWorkingDirectory()).ReplaceHostDefaults(builder.Configuration);

        // Nothing above Debug per message or per request: ASP.NET Core and the MCP SDK log every request
        // at Information, which cost a quarter of the server's CPU per tool call. These are defaults at the
        // bottom of the configuration, so appsettings.json, Logging__LogLevel__* variables and flags override them.
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Default"] = "Information",
                ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
                ["Logging:LogLevel:ModelContextProtocol"] = "Warning",
            },
        });
        builder.AddBrummerSettings();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IMessageQueue>(CreateQueue);

        // Checks the store as the host starts, so a Redis that cannot be reached stops the start (HostRunner).
        builder.Services.AddHostedService<StoreStartup>();
        builder.Services.AddOptions<LoggerFilterOptions>().PostConfigure<IOptions<ServerOptions>>(KeepTokenOutOfLogs);
        builder.Services.AddSingleton<HostStopping>();
        builder.Services.AddOptions<HostOptions>().Configure<IOptions<ServerOptions>>((host, server) =>
            host.ShutdownTimeout = TimeSpan.FromSeconds(server.Value.ShutdownTimeoutSeconds));
        builder.Services.AddSingleton<DeliveryFaults>();
        builder.Services.AddBrummerWeb();
        builder.Services.AddBrummerMcp();
        configure?.Invoke(builder);
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            var options = kestrel.ApplicationServices.GetRequiredService<IOptions<ServerOptions>>().Value;
            ApplyLimits(kestrel.Limits, options);
            if (string.Equals(options.Host, "localhost", StringComparison.OrdinalIgnoreCase))
            {
                kestrel.ListenLocalhost(options.Port);
            }
            else
            {
                kestrel.Listen(IPAddress.Parse(options.Host), options.Port);
            }
        });
        return builder;
    }

    /// <summary>The store <see cref="ServerOptions.Store"/> names: in memory, or in Redis (docs/scale-out.md).</summary>
    private static IMessageQueue CreateQueue(IServiceProvider services)
    {
        var queueOptions = services.GetRequiredService<IOptions<QueueOptions>>().Value;
        var time = services.GetRequiredService<TimeProvider>();
        var server = services.GetRequiredService<IOptions<ServerOptions>>().Value;
        if (!server.UsesRedis)
        {
            return MessageQueue.CreateInMemory(queueOptions, time);
        }

        // The store's synchronous members (Subscribe, Unsubscribe, EndOwner, Ack, stats...) block a pool thread for a
        // Redis round trip, and the Redis client reads the replies that release them on the same pool. With only as many
        // threads as cores, a burst of them (every client of a restarted node subscribing again at once) blocks them all,
        // and nothing reads the replies until the pool grows, slower than the 5 s command timeout: subscribes failed with
        // store_unavailable (docs/scale-out.md "Choices"). Sends and receives await their scripts and hold no thread.
        ThreadPool.GetMinThreads(out var workers, out var completionPorts);
        ThreadPool.SetMinThreads(Math.Max(workers, RedisMinWorkerThreads), completionPorts);
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("BrummerQueue.Redis");
        return RedisStore.Connect(server.Redis!, queueOptions, time, requireConnection: false, logger: logger);
    }

    /// <summary>
    /// With a token set, caps the two ASP.NET Core log categories that write request URLs (with their query, where a
    /// browser's <c>?token=</c> is) below the level they log them at, whatever the configuration asks for: the token
    /// is never logged. Added last, so these rules win over configured ones for the same categories.
    /// </summary>
    private static void KeepTokenOutOfLogs(LoggerFilterOptions filters, IOptions<ServerOptions> server)
    {
        if (string.IsNullOrEmpty(server.Value.Token))
        {
            return;
        }

        // For every provider and for the console by name (a provider's own rule would otherwise win).
        foreach (var provider in new[] { null, "Console" })
        {
            // "Request starting GET http://host/path?query" and "Request finished ..." (Information, Debug).
            filters.Rules.Add(new LoggerFilterRule(provider, "Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning, null));

            // A malformed request line is logged with its text at Debug.
            filters.Rules.Add(new LoggerFilterRule(provider, "Microsoft.AspNetCore.Server.Kestrel.BadRequests", LogLevel.Information, null));
        }
    }

    /// <summary>
    /// Limits against slow and hostile HTTP clients. Kestrel applies neither data rate to upgraded
    /// connections (WebSockets), and counts the response rate only while a write is waiting for the
    /// client, crediting every byte written before: a long poll or an SSE stream with nothing to send
    /// is never cut off, and a long-lived stream that stalls is not cut off soon either, so what is
    /// queued for such a stream is bounded where it is queued (McpSessionRegistry, OutboundQueue).
    /// </summary>
    private static void ApplyLimits(KestrelServerLimits limits, ServerOptions options)
    {
        limits.RequestHeadersTimeout = TimeSpan.FromSeconds(options.RequestHeadersTimeoutSeconds);
        var rate = options.MinDataRateBytesPerSecond > 0
            ? new MinDataRate(options.MinDataRateBytesPerSecond, s_dataRateGrace)
            : null;
        limits.MinRequestBodyDataRate = rate;
        limits.MinResponseDataRate = rate;
    }

    /// <summary>Maps every endpoint.</summary>
    public static WebApplication MapEndpoints(this WebApplication app)
    {
        app.MapBrummerWeb();
        app.MapHealth();
        app.MapBrummerMcp();
        app.MapBrummerDashboard();
        return app;
    }
}
