using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace BrummerQueue.Server.Tests.Mcp;

/// <summary>Connects the SDK's MCP client to a <see cref="TestServerHost"/> over Streamable HTTP, and reads tool results.</summary>
internal static class McpTestClient
{
    /// <summary>
    /// A client on <paramref name="protocolVersion"/> (default 2025-11-25, the newest revision with a session, which
    /// owned subscriptions and <c>resources/subscribe</c> need; null: the SDK's preference, 2026-07-28), unless the
    /// given <paramref name="options"/> name a revision.
    /// </summary>
    public static async Task<McpClient> ConnectAsync(TestServerHost host, McpClientOptions? options = null, bool standaloneGetStream = true, string? protocolVersion = "2025-11-25")
    {
        var http = host.CreateHttpClient();
        var transport = new HttpClientTransport(
            new HttpClientTransportOptions
            {
                Endpoint = new Uri(host.BaseAddress, "/mcp"),
                TransportMode = HttpTransportMode.StreamableHttp,
                EnableStandaloneGetStream = standaloneGetStream,
            },
            http,
            ownsHttpClient: true);
        options ??= new McpClientOptions();
        options.ProtocolVersion ??= protocolVersion;
        return await McpClient.CreateAsync(transport, options, cancellationToken: TestContext.Current.CancellationToken);
    }

    /// <summary>Calls a tool with arguments given as a JSON object.</summary>
    public static Task<CallToolResult> CallAsync(this McpClient client, string tool, string argumentsJson = "{}") =>
        client.CallCancellableAsync(tool, argumentsJson, TestContext.Current.CancellationToken);

    /// <summary>Calls a tool; <paramref name="cancellationToken"/> cancels the request (the SDK sends notifications/cancelled).</summary>
    public static async Task<CallToolResult> CallCancellableAsync(this McpClient client, string tool, string argumentsJson, CancellationToken cancellationToken)
    {
        var arguments = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(argumentsJson)!;
        return await client.CallToolAsync(new CallToolRequestParams { Name = tool, Arguments = arguments }, cancellationToken);
    }

    /// <summary>Calls a tool that must succeed and returns its structured result, checking it equals the text content.</summary>
    public static async Task<JsonElement> CallOkAsync(this McpClient client, string tool, string argumentsJson = "{}")
    {
        var result = await client.CallAsync(tool, argumentsJson);
        var text = Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;
        Assert.True(result.IsError is null or false, $"{tool} failed: {text}");
        var structured = Assert.NotNull(result.StructuredContent);
        Assert.Equal(JsonSerializer.Serialize(structured), JsonSerializer.Serialize(JsonDocument.Parse(text).RootElement));
        return structured;
    }

    /// <summary>Calls a tool that must fail and returns its error text.</summary>
    public static async Task<string> CallErrorAsync(this McpClient client, string tool, string argumentsJson)
    {
        var result = await client.CallAsync(tool, argumentsJson);
        var text = Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;
        Assert.True(result.IsError, $"{tool} {argumentsJson} should fail but returned {text}");
        return text;
    }
}
