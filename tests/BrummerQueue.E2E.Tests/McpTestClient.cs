using System.Text.Json;
using BrummerQueue.Server.Tests;
using ModelContextProtocol.Client;

namespace BrummerQueue.E2E.Tests;

/// <summary>The official MCP SDK client over Streamable HTTP to a test host's <c>/mcp</c>, as an assistant connects.</summary>
public sealed class McpTestClient : IAsyncDisposable
{
    private readonly McpClient _client;

    private McpTestClient(McpClient client) => _client = client;

    public static async Task<McpTestClient> ConnectAsync(TestServerHost server)
    {
        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(server.BaseAddress, "/mcp"),
            Name = "e2e-assistant",
        });
        return new McpTestClient(await McpClient.CreateAsync(transport, cancellationToken: TestContext.Current.CancellationToken));
    }

    /// <summary>Calls a tool and returns its structured result; fails the test on a tool error.</summary>
    public async Task<JsonElement> CallAsync(string tool, Dictionary<string, object?> arguments)
    {
        var result = await _client.CallToolAsync(tool, arguments, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(result.IsError is not true, $"{tool} failed: {string.Join(' ', result.Content.Select(c => c.ToString()))}");
        Assert.NotNull(result.StructuredContent);
        return result.StructuredContent.Value;
    }

    public ValueTask DisposeAsync() => _client.DisposeAsync();
}
