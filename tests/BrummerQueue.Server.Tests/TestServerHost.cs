using System.Net;
using BrummerQueue.Core;
using BrummerQueue.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace BrummerQueue.Server.Tests;

/// <summary>
/// A brummerq host for tests, built by the same <see cref="BrummerHost"/> as the executable.
/// In-process (<see cref="StartInProcessAsync"/>, a TestServer) or on a real loopback port
/// (<see cref="StartOnLoopbackAsync"/>, Kestrel) for real sockets and browsers.
/// </summary>
public sealed class TestServerHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestServerHost(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public IServiceProvider Services => _app.Services;

    public IMessageQueue Queue => _app.Services.GetRequiredService<IMessageQueue>();

    /// <summary>The in-process server; null for a loopback host.</summary>
    public TestServer? TestServer => _app.Services.GetService<IServer>() as TestServer;

    public static async Task<TestServerHost> StartInProcessAsync(Dictionary<string, string?>? settings = null, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = BrummerHost.CreateBuilder([], b =>
        {
            Apply(b, settings);
            configure?.Invoke(b);
        });
        builder.WebHost.UseTestServer();
        var app = builder.Build().MapEndpoints();
        await app.StartAsync();
        return new TestServerHost(app, new Uri("http://localhost/"));
    }

    public static async Task<TestServerHost> StartOnLoopbackAsync(Dictionary<string, string?>? settings = null, Action<WebApplicationBuilder>? configure = null)
    {
        // Port 0 (any free port) unless the caller names one, e.g. to restart a server on the same port.
        var all = new Dictionary<string, string?> { [$"{ServerOptions.SectionName}:Port"] = "0" };
        foreach (var (key, value) in settings ?? [])
        {
            all[key] = value;
        }

        var builder = BrummerHost.CreateBuilder([], b =>
        {
            Apply(b, all);
            configure?.Invoke(b);
        });
        var app = builder.Build().MapEndpoints();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new TestServerHost(app, new Uri(address.EndsWith('/') ? address : address + "/"));
    }

    public HttpClient CreateHttpClient() =>
        TestServer?.CreateClient() ?? new HttpClient { BaseAddress = BaseAddress };

    /// <summary>Stops the host as SIGTERM does (ApplicationStopping, then the server); the services stay readable until disposal.</summary>
    public Task StopAsync() => _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static void Apply(WebApplicationBuilder builder, Dictionary<string, string?>? settings)
    {
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }
    }
}
