using System.Net;
using System.Text;
using System.Text.Json;
using BrummerQueue.Core;
using BrummerQueue.Server.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace BrummerQueue.Server.Tests.Leases;

/// <summary>Acknowledged receive over the HTTP API (<c>?ack_timeout=</c>, <c>POST …/acks</c>) and its figures in <c>/api/stats</c> and <c>/metrics</c>.</summary>
public sealed class HttpLeaseTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task GetWithAckTimeoutThenPostAcks_RemovesTheMessageAndStatsAndMetricsAgree()
    {
        await using var host = await TestServerHost.StartInProcessAsync(configure: b => b.Services.AddSingleton(new MetricsSettings { MeterName = "BrummerQueue.Test." + Guid.NewGuid().ToString("N") }));
        using var client = host.CreateHttpClient();
        host.Queue.Send("app/jobs", new MessageDraft(Payload: JsonPayload.Parse("1")));
        host.Queue.Send("app/jobs", new MessageDraft(Payload: JsonPayload.Parse("2")));

        var leased = await GetJsonAsync(client, "/api/channels/app/jobs/messages?limit=1&ack_timeout=30");
        var id = leased.GetProperty("messages")[0].GetProperty("id").GetString();
        using var response = await client.PostAsync(new Uri("/api/channels/app/jobs/acks", UriKind.Relative), Json($$"""{"message_ids":["{{id}}","{{id}}"]}"""), Ct);
        var acked = await ReadJsonAsync(response);
        var stats = await GetJsonAsync(client, "/api/stats");
        var metrics = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, acked.GetProperty("acked").GetInt32());
        Assert.Equal([id], acked.GetProperty("not_leased").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(1, stats.GetProperty("messages_leased").GetInt64());
        Assert.Equal(1, stats.GetProperty("messages_acked").GetInt64());
        Assert.Equal(1, stats.GetProperty("messages_consumed").GetInt64());
        var channel = stats.GetProperty("channels").GetProperty("app/jobs");
        Assert.Equal((1L, 1L, 0L, 1L), (channel.GetProperty("messages").GetInt64(), channel.GetProperty("leased").GetInt64(), channel.GetProperty("in_flight").GetInt64(), channel.GetProperty("acked").GetInt64()));
        Assert.Matches(@"(?m)^brummerq_messages_leased_total(\{[^}]*\})? 1( |$)", metrics);
        Assert.Matches(@"(?m)^brummerq_messages_acked_total(\{[^}]*\})? 1( |$)", metrics);
        Assert.Matches(@"(?m)^brummerq_messages_redelivered_total(\{[^}]*\})? 0( |$)", metrics);
        Assert.Matches(@"(?m)^brummerq_messages_dead_lettered_total(\{[^}]*\})? 0( |$)", metrics);
        Assert.Matches(@"(?m)^brummerq_messages_in_flight(\{[^}]*\})? 0( |$)", metrics);
    }

    [Theory]
    [InlineData("GET", "/api/channels/c/messages?ack_timeout=abc", null, "ack_timeout")]
    [InlineData("GET", "/api/channels/c/messages?ack_timeout=0", null, "ack_timeout")]
    [InlineData("POST", "/api/channels/c/acks", """{"message_ids":[]}""", "message_ids")]
    [InlineData("POST", "/api/channels/c/acks", """{"ids":["x"]}""", "ids")]
    [InlineData("POST", "/api/channels/c/acks", "[1]", "body")]
    public async Task LeaseEndpoints_BadInput_ProblemNamesTheField(string method, string path, string? body, string field)
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var client = host.CreateHttpClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(path, UriKind.Relative)) { Content = body is null ? null : Json(body) };

        using var response = await client.SendAsync(request, Ct);
        var problem = await ReadJsonAsync(response);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(field, problem.GetProperty("field").GetString());
    }

    [Fact]
    public async Task PostAcks_BodyOverItsLimit_Is413NamingTheBody()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var client = host.CreateHttpClient();

        using var response = await client.PostAsync(new Uri("/api/channels/c/acks", UriKind.Relative), Json($$"""{"message_ids":["{{new string('x', 70_000)}}"]}"""), Ct);
        var problem = await ReadJsonAsync(response);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("body", problem.GetProperty("field").GetString());
        Assert.Contains("an ack body must be at most 65536 bytes", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetOnAcks_IsMethodNotAllowedWithAllowPost()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var client = host.CreateHttpClient();

        using var response = await client.GetAsync(new Uri("/api/channels/c/acks", UriKind.Relative), Ct);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal("POST", response.Content.Headers.Allow.Single());
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> GetJsonAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative), Ct);
        return await ReadJsonAsync(response);
    }

    private static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.Clone();
}
