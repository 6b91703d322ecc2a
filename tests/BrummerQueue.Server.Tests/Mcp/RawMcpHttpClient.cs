using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace BrummerQueue.Server.Tests.Mcp;

/// <summary>
/// A hand-written Streamable HTTP client of <c>/mcp</c> (JSON-RPC in POST bodies, answers as JSON or
/// SSE), for what the SDK's client hides: the HTTP status, the raw error body, when a response ends.
/// </summary>
internal sealed class RawMcpHttpClient : IDisposable
{
    private readonly HttpClient _http;

    private RawMcpHttpClient(HttpClient http, string? sessionId)
    {
        _http = http;
        SessionId = sessionId;
    }

    /// <summary>The session id the server gave at initialize.</summary>
    public string? SessionId { get; }

    /// <summary>Initializes a session (protocol 2025-11-25) and sends notifications/initialized.</summary>
    public static async Task<RawMcpHttpClient> StartAsync(HttpClient http)
    {
        using var initialize = await PostAsync(http, null, """{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""");
        initialize.EnsureSuccessStatusCode();
        var sessionId = initialize.Headers.GetValues("Mcp-Session-Id").Single();
        _ = await initialize.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var session = new RawMcpHttpClient(http, sessionId);
        using var initialized = await session.PostAsync("""{"jsonrpc":"2.0","method":"notifications/initialized"}""");
        initialized.EnsureSuccessStatusCode();
        return session;
    }

    /// <summary>POSTs one JSON-RPC message with the headers a Streamable HTTP client sends; returns once the headers arrived.</summary>
    public static async Task<HttpResponseMessage> PostAsync(HttpClient http, string? sessionId, string json, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/mcp") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (sessionId is not null)
        {
            request.Headers.Add("Mcp-Session-Id", sessionId);
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, TestContext.Current.CancellationToken);
        return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token);
    }

    /// <summary>Reads a JSON-RPC error body and returns its <c>error</c> and <c>id</c>.</summary>
    public static async Task<(JsonElement Error, JsonElement Id)> ReadErrorAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        using var document = JsonDocument.Parse(body);
        return (document.RootElement.GetProperty("error").Clone(), document.RootElement.GetProperty("id").Clone());
    }

    public Task<HttpResponseMessage> PostAsync(string json, CancellationToken cancellationToken = default) => PostAsync(_http, SessionId, json, cancellationToken);

    public void Dispose() => _http.Dispose();
}
