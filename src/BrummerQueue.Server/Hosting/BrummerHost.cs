using System.Net;
using BrummerQueue.Core;
using BrummerQueue.Server.Dashboard;
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
        builder.Configuration.AddEnvironmentVariables("BRUMMERQ_");
        builder.Services.AddOptions<ServerOptions>().Bind(builder.Configuration.GetSection(ServerOptions.SectionName)).ValidateOnStart();
        builder.Services.AddOptions<QueueOptions>()
            .Bind(builder.Configuration.GetSection($"{ServerOptions.SectionName}:Queue"))
            .Validate(o => { o.Validate(); return true; })
            .ValidateOnStart();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IMessageQueue>(sp => MessageQueue.CreateInMemory(
            sp.GetRequiredService<IOptions<QueueOptions>>().Value,
            sp.GetRequiredService<TimeProvider>()));
        configure?.Invoke(builder);
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            var options = context.Configuration.GetSection(ServerOptions.SectionName).Get<ServerOptions>() ?? new ServerOptions();
            kestrel.Listen(IPAddress.Parse(options.Host), options.Port);
        });
        return builder;
    }

    /// <summary>Maps every endpoint.</summary>
    public static WebApplication MapEndpoints(this WebApplication app)
    {
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapBrummerDashboard();
        return app;
    }
}
