using System.Globalization;
using System.Text.Json;
using BrummerQueue.Server.Tests.Mcp;

namespace BrummerQueue.Server.Tests.Clients;

/// <summary>
/// The seed's workflow driven by real TypeScript MCP clients from npm (tests/clients/workflow.mjs), each on its
/// own protocol revision, over Streamable HTTP (against a loopback host) and over stdio (the client starts
/// <c>brummerq mcp</c>): initialize, list tools, <c>queue_subscribe</c>, a WebSocket client sends to that
/// channel, a blocking <c>queue_receive</c> gets it with the payload, <c>queue_send</c> answers on another
/// channel and the WebSocket client gets the answer.
/// </summary>
public sealed class TypeScriptClientTests(TypeScriptClients clients) : IClassFixture<TypeScriptClients>
{
    private static readonly JsonSerializerOptions s_compact = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>client package (tests/clients/package.json), pinned revision or "", transport, the revision it must end up on.</summary>
    public static TheoryData<string, string, string, string> Clients { get; } = new(
        new TheoryDataRow<string, string, string, string>("sdk132", "", "http", "2025-11-25"),
        new TheoryDataRow<string, string, string, string>("sdk132", "", "stdio", "2025-11-25"),
        new TheoryDataRow<string, string, string, string>("sdk117", "", "http", "2025-06-18"),
        new TheoryDataRow<string, string, string, string>("sdk117", "", "stdio", "2025-06-18"),
        new TheoryDataRow<string, string, string, string>("client2", "", "http", "2025-11-25"),
        new TheoryDataRow<string, string, string, string>("client2", "", "stdio", "2025-11-25"),
        new TheoryDataRow<string, string, string, string>("client2", "2026-07-28", "http", "2026-07-28"),
        new TheoryDataRow<string, string, string, string>("client2", "2026-07-28", "stdio", "2026-07-28"));

    [Theory]
    [MemberData(nameof(Clients))]
    public async Task Workflow_TypeScriptClient_CompletesOnItsRevision(string client, string pin, string transport, string revision)
    {
        JsonElement result;
        if (transport == "http")
        {
            await using var host = await TestServerHost.StartOnLoopbackAsync();
            result = await clients.RunWorkflowAsync(new
            {
                client,
                pin = pin.Length == 0 ? null : pin,
                transport,
                url = new Uri(host.BaseAddress, "mcp").ToString(),
                wsUrl = WebSocketUrl(host.BaseAddress.Port),
            });
        }
        else
        {
            var port = BrummerqProcess.FreePort();
            result = await clients.RunWorkflowAsync(new
            {
                client,
                pin = pin.Length == 0 ? null : pin,
                transport,
                command = "dotnet",
                args = new[] { BrummerqProcess.DllPath, "mcp", "--port", port.ToString(CultureInfo.InvariantCulture) },
                wsUrl = WebSocketUrl(port),
            });
        }

        Assert.True(result.GetProperty("ok").GetBoolean(), $"the {client} workflow failed: {result}");
        Assert.Equal(revision, result.GetProperty("protocolVersion").GetString());
        Assert.Equal("brummerq", result.GetProperty("serverName").GetString());
        Assert.Equal(
            ["queue_ack", "queue_list_channels", "queue_receive", "queue_request", "queue_send", "queue_stats", "queue_subscribe", "queue_unsubscribe"],
            result.GetProperty("tools").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("ack", result.GetProperty("browserAck").GetString());
        var received = result.GetProperty("received");
        Assert.Equal(result.GetProperty("subscribedChannel").GetString(), received.GetProperty("channel").GetString());
        Assert.Equal("form_submitted", received.GetProperty("type").GetString());
        Assert.Equal(1, received.GetProperty("count").GetInt32());
        Assert.Equal(
            """{"form":"signup","email":"ada@example.com","tags":["new","ünïcødé"],"n":1}""",
            JsonSerializer.Serialize(received.GetProperty("payload"), s_compact));
        Assert.Equal(1, result.GetProperty("deliveredTo").GetInt32());
        var answer = result.GetProperty("browserGot");
        Assert.Equal("reply", answer.GetProperty("type").GetString());
        Assert.Equal("""{"to":"ada@example.com","text":"Welcome, Ada!"}""", JsonSerializer.Serialize(answer.GetProperty("payload"), s_compact));

        // A refusal reaches the client as a tool error the model can read (SPEC.md section 2), not a protocol exception.
        var refusal = result.GetProperty("refusal");
        Assert.True(refusal.GetProperty("isError").GetBoolean());
        Assert.Equal("ttl must be an integer between 0 and 604800", refusal.GetProperty("text").GetString());
    }

    private static string WebSocketUrl(int port) => $"ws://127.0.0.1:{port}/__brummer_ws__";
}
