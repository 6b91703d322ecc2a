using BrummerQueue.Core;
using BrummerQueue.Server.Metrics;
using BrummerQueue.Server.Tests.WebSockets;
using Microsoft.Extensions.DependencyInjection;

namespace BrummerQueue.Server.Tests.Metrics;

public sealed class MetricsEndpointTests
{
    [Fact]
    public async Task Metrics_AfterTraffic_ExposesBrummerqFiguresInPrometheusText()
    {
        // Its own meter: exporters pick meters by name across the process, and other tests' hosts run alongside.
        await using var host = await TestServerHost.StartInProcessAsync(configure: b => b.Services.AddSingleton(new MetricsSettings { MeterName = "BrummerQueue.Test." + Guid.NewGuid().ToString("N") }));
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;
        await socket.RequestAsync("queue_subscribe", "s", new { channel = "m" });
        for (var i = 0; i < 3; i++)
        {
            host.Queue.Send("m", new MessageDraft(Payload: JsonPayload.Parse("\"abc\"")));
        }

        host.Queue.Receive("m", 1, peek: false, new List<QueueMessage>());
        using var client = host.CreateHttpClient();

        using var response = await client.GetAsync(new Uri("/metrics", UriKind.Relative), TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        Assert.Contains("# TYPE brummerq_messages_sent_total counter", text, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^brummerq_messages_sent_total(\{[^}]*\})? 3( |$)", text);
        Assert.Matches(@"(?m)^brummerq_messages_consumed_total(\{[^}]*\})? 1( |$)", text);
        Assert.Matches(@"(?m)^brummerq_messages_delivered_total(\{[^}]*\})? 3( |$)", text);
        Assert.Matches(@"(?m)^brummerq_messages_retained(\{[^}]*\})? 2( |$)", text);
        Assert.Matches(@"(?m)^brummerq_channels(\{[^}]*\})? 1( |$)", text);
        Assert.Matches(@"(?m)^brummerq_subscriptions(\{[^}]*\})? 1( |$)", text);
        Assert.Matches(@"(?m)^brummerq_websocket_connections(\{[^}]*\})? 1( |$)", text);
        Assert.Matches(@"(?m)^brummerq_retained_bytes(\{[^}]*\})? 10( |$)", text);
        Assert.Contains("brummerq_messages_expired_total", text, StringComparison.Ordinal);
        Assert.Contains("brummerq_messages_dropped_total", text, StringComparison.Ordinal);
    }
}
