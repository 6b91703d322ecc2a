using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace BrummerQueue.Server.Tests.Mcp;

/// <summary>
/// MCP over Streamable HTTP spoken by hand: the request bytes go out exactly as given and the reply is
/// parsed with no depth limit of the SDK's. The SDK's client cannot do either: it re-writes arguments
/// (escaping non-ASCII text) and refuses replies more than 64 levels deep.
/// </summary>
internal sealed class RawMcpSession : IDisposable
{
    private static readonly JsonDocumentOptions s_deep = new() { MaxDepth = 1000 };
    private readonly HttpClient _http;
    private readonly string _sessionId;
    private int _nextId = 1;

    private RawMcpSession(HttpClient http, string sessionId)
    {
        _http = http;
        _sessionId = sessionId;
    }

    public static async Task<RawMcpSession> StartAsync(TestServerHost host)
    {
        var http = host.CreateHttpClient();
        using var request = Post("""{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"""u8.ToArray(), null);
        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
        var sessionId = response.Headers.GetValues("Mcp-Session-Id").Single();
        using var initialized = Post("""{"jsonrpc":"2.0","method":"notifications/initialized"}"""u8.ToArray(), sessionId);
        using var accepted = await http.SendAsync(initialized, TestContext.Current.CancellationToken);
        accepted.EnsureSuccessStatusCode();
        return new RawMcpSession(http, sessionId);
    }

    /// <summary>Calls <paramref name="tool"/>; <paramref name="argumentsJson"/> is sent byte for byte. Returns the JSON-RPC reply.</summary>
    public async Task<JsonElement> CallAsync(string tool, byte[] argumentsJson)
    {
        var id = _nextId++;
        var body = new List<byte>();
        body.AddRange(Encoding.UTF8.GetBytes($$"""{"jsonrpc":"2.0","id":{{id}},"method":"tools/call","params":{"name":"{{tool}}","arguments":"""));
        body.AddRange(argumentsJson);
        body.AddRange("}}"u8.ToArray());
        using var request = Post([.. body], _sessionId);
        using var response = await _http.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"HTTP {(int)response.StatusCode}: {Encoding.UTF8.GetString(text)}");
        return ReadReply(text, id);
    }

    /// <summary>Posts <paramref name="body"/> byte for byte in this session; returns the HTTP status and the body's text.</summary>
    public async Task<(int Status, string Text)> PostAsync(byte[] body)
    {
        using var request = Post(body, _sessionId);
        using var response = await _http.SendAsync(request, TestContext.Current.CancellationToken);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    /// <summary>Calls <paramref name="tool"/> with arguments as a string of JSON.</summary>
    public Task<JsonElement> CallAsync(string tool, string argumentsJson) => CallAsync(tool, Encoding.UTF8.GetBytes(argumentsJson));

    public void Dispose() => _http.Dispose();

    private static HttpRequestMessage Post(byte[] body, string? sessionId)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/mcp") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (sessionId is not null)
        {
            request.Headers.Add("Mcp-Session-Id", sessionId);
            request.Headers.Add("MCP-Protocol-Version", "2025-11-25");
        }

        return request;
    }

    /// <summary>The JSON-RPC message with <paramref name="id"/> from a JSON or an SSE reply.</summary>
    private static JsonElement ReadReply(byte[] body, int id)
    {
        var text = Encoding.UTF8.GetString(body);
        var candidates = text.TrimStart().StartsWith('{')
            ? [text]
            : text.Split('\n').Where(l => l.StartsWith("data:", StringComparison.Ordinal)).Select(l => l["data:".Length..].Trim());
        foreach (var candidate in candidates)
        {
            var message = JsonDocument.Parse(candidate, s_deep).RootElement.Clone();
            if (message.TryGetProperty("id", out var replyId) && replyId.ValueKind == JsonValueKind.Number && replyId.GetInt32() == id)
            {
                return message;
            }
        }

        throw new Xunit.Sdk.XunitException($"no reply to request {id} in: {text}");
    }
}
