using System.Globalization;
using BrummerQueue.Server.Mcp;
using BrummerQueue.Server.Tests.Mcp;

namespace BrummerQueue.Server.Tests.Clients;

/// <summary>
/// The client limits of docs/mcp.md ("Long waits") with the real TypeScript SDK (1.32.2, tests/clients/keepalive.mjs):
/// its request timeout ends a blocking <c>queue_receive</c> that waits longer, unless the call resets that timer on
/// progress, which brummerq's keep-alive then keeps alive (interval shortened to 300 ms by the test-only variable).
/// </summary>
public sealed class TypeScriptKeepAliveTests(TypeScriptClients clients) : IClassFixture<TypeScriptClients>
{
    [Fact]
    public async Task CallTool_ResetTimeoutOnProgress_OutlivesTheClientRequestTimeout()
    {
        var result = await RunAsync(reset: true);

        Assert.Equal("result", result.GetProperty("outcome").GetString());
        Assert.Equal(0, result.GetProperty("count").GetInt32());
        Assert.True(result.GetProperty("elapsedMs").GetInt64() >= 4_500, $"the wait ended early: {result}");
        Assert.True(result.GetProperty("progress").GetInt32() >= 2, $"expected keep-alive notifications: {result}");
    }

    [Fact]
    public async Task CallTool_WithoutReset_TimesOutAtTheClientRequestTimeout()
    {
        var result = await RunAsync(reset: false);

        Assert.Equal("timeout", result.GetProperty("outcome").GetString());
        Assert.Contains("Request timed out", result.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    /// <summary>A 5 s blocking receive on a quiet channel through <c>brummerq mcp</c>, the client's request timeout 2 s.</summary>
    private async Task<System.Text.Json.JsonElement> RunAsync(bool reset)
    {
        var result = await clients.RunScriptAsync("keepalive.mjs", new
        {
            command = "dotnet",
            args = new[] { BrummerqProcess.DllPath, "mcp", "--port", BrummerqProcess.FreePort().ToString(CultureInfo.InvariantCulture) },
            env = new Dictionary<string, string> { [ReceiveKeepAlive.IntervalVariable] = "300" },
            requestTimeoutMs = 2_000,
            waitSeconds = 5,
            reset,
        });
        Assert.True(result.GetProperty("ok").GetBoolean(), $"keepalive.mjs failed: {result}");
        return result;
    }
}
