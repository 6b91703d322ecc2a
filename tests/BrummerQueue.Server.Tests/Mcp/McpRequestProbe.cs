using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace BrummerQueue.Server.Tests.Mcp;

/// <summary>
/// Counts the <c>POST /mcp</c> requests the server is still serving (a middleware in front of the
/// whole pipeline), so a test can await the moment the server has really ended a response.
/// </summary>
internal sealed class McpRequestProbe
{
    private int _inFlight;

    /// <summary>POSTs to /mcp whose response the server has not yet ended.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    public void Install(WebApplicationBuilder builder) => builder.Services.AddSingleton<IStartupFilter>(new Filter(this));

    private sealed class Filter(McpRequestProbe probe) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (HttpContext context, RequestDelegate inner) =>
            {
                if (!HttpMethods.IsPost(context.Request.Method) || context.Request.Path != "/mcp")
                {
                    await inner(context);
                    return;
                }

                Interlocked.Increment(ref probe._inFlight);
                try
                {
                    await inner(context);
                }
                finally
                {
                    Interlocked.Decrement(ref probe._inFlight);
                }
            });
            next(app);
        };
    }
}
