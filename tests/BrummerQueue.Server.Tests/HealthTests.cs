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
}
