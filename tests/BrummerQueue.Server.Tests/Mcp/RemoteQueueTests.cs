using BrummerQueue.Server.Mcp;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol;

namespace BrummerQueue.Server.Tests.Mcp;

/// <summary>Attach mode's forwarding client against a real loopback server.</summary>
public sealed class RemoteQueueTests
{
    [Fact]
    public async Task ConnectAsync_TokenMissing_SaysServerNeedsToken()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync(new() { ["Brummerq:Token"] = "s3cret" });
        await using var remote = new RemoteQueue(host.BaseAddress, token: null, NullLoggerFactory.Instance);

        var error = await Assert.ThrowsAsync<McpException>(() => remote.ConnectAsync(TestContext.Current.CancellationToken));

        Assert.Contains("needs a token: set BRUMMERQ_TOKEN or pass --token", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not reachable", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("exited", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectAsync_TokenWrong_SaysTokenRefused()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync(new() { ["Brummerq:Token"] = "s3cret" });
        await using var remote = new RemoteQueue(host.BaseAddress, token: "guess", NullLoggerFactory.Instance);

        var error = await Assert.ThrowsAsync<McpException>(() => remote.ConnectAsync(TestContext.Current.CancellationToken));

        Assert.Contains("refused the token given (--token or BRUMMERQ_TOKEN)", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not reachable", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectAsync_RightToken_Connects()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync(new() { ["Brummerq:Token"] = "s3cret" });
        await using var remote = new RemoteQueue(host.BaseAddress, token: "s3cret", NullLoggerFactory.Instance);

        await remote.ConnectAsync(TestContext.Current.CancellationToken);

        Assert.Equal(new Uri(host.BaseAddress, "/mcp"), remote.Endpoint);
    }
}
