using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BrummerQueue.Core;
using BrummerQueue.Server.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace BrummerQueue.Server.Tests.Http;

/// <summary>SPEC.md §1 "Reads never lose" on the HTTP API: a consuming GET that cannot write its answer puts back what it took.</summary>
public sealed class HttpApiPutBackTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Get_ClientGoneBeforeTheAnswerIsWritten_MessagesStayReceivableInOrderAndConsumedCountsOnlyDelivered()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var failures = 0;
        host.Services.GetRequiredService<DeliveryFaults>().FailReply = face => face == DeliveryFaults.Http && Interlocked.Exchange(ref failures, 1) == 0;
        for (var i = 1; i <= 3; i++)
        {
            Send(host.Queue, "http.lost", i);
        }

        using var client = host.CreateHttpClient();

        // The server takes the three messages, then finds the request aborted as it writes the answer.
        await Assert.ThrowsAnyAsync<Exception>(() => client.GetAsync(new Uri("/api/channels/http.lost/messages?limit=10", UriKind.Relative), Ct));

        // A long poll gets them (woken by the put-back if it comes first), oldest first.
        using var response = await client.GetAsync(new Uri("/api/channels/http.lost/messages?limit=10&timeout=10", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal([1, 2, 3], body.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("payload").GetInt32()));

        Assert.Equal(1, Volatile.Read(ref failures));
        var stats = host.Queue.GetStats();
        Assert.Equal(3, stats.MessagesConsumed);
        Assert.Equal(new ChannelStats(stats.Channels["http.lost"].Epoch, 0, 0, 3, 3, 0, 0), stats.Channels["http.lost"]);
    }

    [Fact]
    public async Task Get_ClientAbortsItsLongPoll_MessageSentAfterwardsIsNotLost()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();
        using var client = host.CreateHttpClient();
        using (var abort = CancellationTokenSource.CreateLinkedTokenSource(Ct))
        {
            var polling = client.GetAsync(new Uri("/api/channels/http.left/messages?timeout=60", UriKind.Relative), abort.Token);
            await abort.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => polling);
        }

        // Whether the long poll ends before the message arrives, or takes it and then finds the client gone,
        // the message must stay for the next receiver.
        Send(host.Queue, "http.left", 7);
        using var response = await client.GetAsync(new Uri("/api/channels/http.left/messages?timeout=10", UriKind.Relative), Ct);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(7, Assert.Single(body.GetProperty("messages").EnumerateArray()).GetProperty("payload").GetInt32());
        Assert.Equal(1, host.Queue.GetStats().MessagesConsumed);
    }

    private static void Send(IMessageQueue queue, string channel, int payload) =>
        queue.Send(channel, new MessageDraft(Payload: JsonPayload.Parse(payload.ToString(System.Globalization.CultureInfo.InvariantCulture))));
}
