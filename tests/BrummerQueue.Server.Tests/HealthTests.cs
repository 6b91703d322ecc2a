using System.Text.Json;
using BrummerQueue.Server.Tests.WebSockets;

namespace BrummerQueue.Server.Tests;

public sealed class HealthTests
{
    [Fact]
    public async Task Healthz_InProcess_AnswersOk()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var client = host.CreateHttpClient();
        var body = await client.GetStringAsync(new Uri("/healthz", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Contains("\"server\":\"brummerq\"", body, StringComparison.Ordinal);
        Assert.Contains("\"store\":\"memory\"", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Healthz_TwoServers_EachHasTheInstanceIdOfItsWebSocketGreeting()
    {
        await using var first = await TestServerHost.StartInProcessAsync();
        await using var second = await TestServerHost.StartInProcessAsync();

        var firstId = await HealthInstanceIdAsync(first);
        var (socket, greeting) = await TestSocket.ConnectAsync(first);
        await socket.DisposeAsync();

        Assert.Equal(greeting.GetProperty("data").GetProperty("instance_id").GetString(), firstId);
        Assert.NotEqual(firstId, await HealthInstanceIdAsync(second));
    }

    [Fact]
    public async Task Healthz_OnLoopback_AnswersOk()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();
        using var client = host.CreateHttpClient();
        Assert.NotEqual(0, host.BaseAddress.Port);
        var body = await client.GetStringAsync(new Uri(host.BaseAddress, "/healthz"), TestContext.Current.CancellationToken);
        Assert.Contains("\"server\":\"brummerq\"", body, StringComparison.Ordinal);
    }

    private static async Task<string?> HealthInstanceIdAsync(TestServerHost host)
    {
        using var client = host.CreateHttpClient();
        var body = await client.GetStringAsync(new Uri("/healthz", UriKind.Relative), TestContext.Current.CancellationToken);
        using var document = JsonDocument.Parse(body);
        return document.RootElement.GetProperty("instance_id").GetString();
    }
}
