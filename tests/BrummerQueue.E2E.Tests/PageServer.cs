using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BrummerQueue.E2E.Tests;

/// <summary>
/// A second web server on its own loopback port that serves the test pages in <c>Pages/</c>:
/// a page loaded from it has an origin other than brummerq's, as a developer's app would.
/// </summary>
public sealed class PageServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private PageServer(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The URL of a page in <c>Pages/</c>, on <paramref name="host"/> (default localhost), with a query string.</summary>
    public Uri PageUrl(string file, string query, string host = "localhost") =>
        new($"http://{host}:{Port}/{file}?{query}");

    public static async Task<PageServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var root = Path.Combine(AppContext.BaseDirectory, "Pages");
        app.MapGet("/{file}", (string file) =>
        {
            var path = Path.Combine(root, Path.GetFileName(file));
            return File.Exists(path) ? Results.File(path, "text/html; charset=utf-8") : Results.NotFound();
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new PageServer(app, new Uri(address).Port);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
