using BrummerQueue.Server.Hosting;
using BrummerQueue.Server.Metrics;
using BrummerQueue.Server.Security;
using BrummerQueue.Server.WebSockets;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace BrummerQueue.Server.Http;

/// <summary>
/// Registers and maps the web surface of brummerq: the request guard (Host/Origin/token), the
/// WebSocket endpoint, the HTTP API and <c>/metrics</c>. Called once each from <see cref="BrummerHost"/>.
/// </summary>
internal static class BrummerWebExtensions
{
    /// <summary>Adds the services of the WebSocket endpoint, the HTTP API and the metrics.</summary>
    public static IServiceCollection AddBrummerWeb(this IServiceCollection services)
    {
        services.AddSingleton<ServerIdentity>();
        services.AddSingleton<WebSocketConnectionTracker>();
        services.AddSingleton<BrummerMetrics>();
        services.AddSingleton(new MetricsSettings());
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("brummerq"))
            .WithMetrics(metrics =>
            {
                ((IDeferredMeterProviderBuilder)metrics).Configure((sp, builder) => builder.AddMeter(sp.GetRequiredService<MetricsSettings>().MeterName));
                metrics.AddPrometheusExporter(options => options.ScopeInfoEnabled = false);
            });
        return services;
    }

    /// <summary>
    /// Adds the request guard (it must run before every endpoint, so call this before mapping
    /// anything that the guard protects and before any terminal middleware), the WebSocket
    /// middleware, and maps <c>/__brummer_ws__</c>, <c>/api/*</c> and <c>/metrics</c>.
    /// </summary>
    public static WebApplication MapBrummerWeb(this WebApplication app)
    {
        // The WebSocket middleware only adds the upgrade feature; the guard needs it to refuse a page's
        // handshake with a close code the page can read.
        app.UseWebSockets();
        app.UseMiddleware<RequestGuardMiddleware>();
        _ = app.Services.GetRequiredService<BrummerMetrics>();
        WebSocketEndpoint.Map(app);
        HttpApiEndpoints.Map(app);
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }
}
