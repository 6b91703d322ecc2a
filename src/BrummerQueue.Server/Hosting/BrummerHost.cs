using System.Net;
using BrummerQueue.Core;
using BrummerQueue.Server.Dashboard;
using BrummerQueue.Server.Http;
using BrummerQueue.Server.Mcp;
using BrummerQueue.Server.Settings;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.Options;

namespace BrummerQueue.Server.Hosting;

/// <summary>
/// Builds the brummerq web application: one <see cref="IMessageQueue"/> shared by every endpoint.
/// Tests build it the same way, with a configuration callback.
/// </summary>
internal static class BrummerHost
{
    /// <summary>Creates the builder with brummerq's services; <paramref name="configure"/> may override settings and services.</summary>
    public static WebApplicationBuilder CreateBuilder(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args);

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
        builder.Services.AddSingleton<IMessageQueue>(sp => MessageQueue.CreateInMemory(
            sp.GetRequiredService<IOptions<QueueOptions>>().Value,
            sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton<DeliveryFaults>();
        builder.Services.AddBrummerWeb();
        builder.Services.AddBrummerMcp();
        configure?.Invoke(builder);
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            var options = kestrel.ApplicationServices.GetRequiredService<IOptions<ServerOptions>>().Value;
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
