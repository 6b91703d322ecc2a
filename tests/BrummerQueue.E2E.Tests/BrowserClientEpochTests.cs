using System.Text.Json;
using BrummerQueue.Core;
using BrummerQueue.Server.Tests;
using Microsoft.Playwright;

namespace BrummerQueue.E2E.Tests;

/// <summary>
/// client.js in real Chromium resuming by <c>(epoch, seq)</c> (SPEC.md §1 "Resume"): the page is told when a resume has
/// a gap (<c>onGap</c>, <c>Subscription.recovered</c>) and still gets what is retained.
/// </summary>
public sealed class BrowserClientEpochTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private static readonly PageWaitForFunctionOptions s_wait = new() { Timeout = 10_000 };

    [Fact]
    public async Task Subscription_ServerRestartsWithANewEpoch_PageToldRecoveredFalseAndGetsTheNewBacklog()
    {
        TestServerHost? first = await LoopbackBrummer.StartAsync();
        var port = first.BaseAddress.Port;
        TestServerHost? second = null;
        using var restartedQueue = MessageQueue.CreateInMemory();
        await using var pages = await PageServer.StartAsync();
        try
        {
            await browser.RunPageAsync(async page =>
            {
                await OpenClientPageAsync(page, pages, first);
                await page.EvaluateAsync<string>("channel => window.subscribeTo(channel)", "e2e.epoch");
                first.Queue.Send("e2e.epoch", new MessageDraft(Payload: JsonPayload.Parse("1")));
                first.Queue.Send("e2e.epoch", new MessageDraft(Payload: JsonPayload.Parse("2")));
                await page.WaitForFunctionAsync("() => window.received.length === 2", null, s_wait);
                var oldEpoch = first.Queue.ListChannels().Single().Epoch;
                Assert.Equal(oldEpoch, await page.EvaluateAsync<string>("() => window.subscriptions['e2e.epoch'].epoch"));

                await first.DisposeAsync();
                first = null;
                await page.WaitForFunctionAsync("() => window.queue.status === 'reconnecting'", null, s_wait);

                // The restarted server's channel is a new incarnation: seqs 1 and 2 again, another epoch.
                restartedQueue.Send("e2e.epoch", new MessageDraft(Payload: JsonPayload.Parse("10")));
                restartedQueue.Send("e2e.epoch", new MessageDraft(Payload: JsonPayload.Parse("20")));
                var newEpoch = restartedQueue.ListChannels().Single().Epoch;
                Assert.NotEqual(oldEpoch, newEpoch);
                second = await LoopbackBrummer.StartAsync(port, restartedQueue);

                await page.WaitForFunctionAsync("() => window.received.length === 4 && window.gaps.length === 1", null, s_wait);
                var gap = await page.EvaluateAsync<JsonElement>("() => window.gaps[0]");
                Assert.Equal("e2e.epoch", gap.GetProperty("channel").GetString());
                Assert.Equal(newEpoch, gap.GetProperty("epoch").GetString());
                Assert.Equal(oldEpoch, gap.GetProperty("previousEpoch").GetString());
                Assert.True(gap.GetProperty("epochChanged").GetBoolean());
                Assert.Equal(2, gap.GetProperty("lastSeq").GetInt32());
                Assert.False(await page.EvaluateAsync<bool>("() => window.subscriptions['e2e.epoch'].recovered"));
                Assert.Equal(newEpoch, await page.EvaluateAsync<string>("() => window.subscriptions['e2e.epoch'].epoch"));
                var received = await page.EvaluateAsync<string[]>("() => window.received.map(m => `${m.seq} ${m.payload}`)");
                Assert.Equal(["1 1", "2 2", "1 10", "2 20"], received);
            });
        }
        finally
        {
            if (first is not null)
            {
                await first.DisposeAsync();
            }

            if (second is not null)
            {
                await second.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Subscription_MessagesConsumedWhileAway_PageToldOfTheGapInTheSameEpochAndGetsWhatIsRetained()
    {
        await using var server = await LoopbackBrummer.StartAsync();
        await using var pages = await PageServer.StartAsync();
        await browser.RunPageAsync(async page =>
        {
            await OpenClientPageAsync(page, pages, server, reconnectDelayMs: 1000);
            await page.EvaluateAsync<string>("channel => window.subscribeTo(channel)", "e2e.consumed");
            server.Queue.Send("e2e.consumed", new MessageDraft(Payload: JsonPayload.Parse("1")));
            await page.WaitForFunctionAsync("() => window.received.length === 1", null, s_wait);
            var epoch = server.Queue.ListChannels().Single().Epoch;

            await page.EvaluateAsync("() => window.queue._socket.close(4001, 'simulated network drop')");
            await page.WaitForFunctionAsync("() => window.queue.status === 'reconnecting'", null, s_wait);
            server.Queue.Send("e2e.consumed", new MessageDraft(Payload: JsonPayload.Parse("2")));
            server.Queue.Send("e2e.consumed", new MessageDraft(Payload: JsonPayload.Parse("3")));

            // A worker takes seqs 1 and 2 before the page is back: 2 is gone for the page, 3 is still retained.
            var taken = new List<QueueMessage>();
            Assert.Equal(2, server.Queue.Receive("e2e.consumed", 2, peek: false, taken));

            await page.WaitForFunctionAsync("() => window.gaps.length === 1 && window.received.length === 2", null, s_wait);
            var gap = await page.EvaluateAsync<JsonElement>("() => window.gaps[0]");
            Assert.False(gap.GetProperty("epochChanged").GetBoolean());
            Assert.Equal(epoch, gap.GetProperty("epoch").GetString());
            Assert.Equal(1, gap.GetProperty("lastSeq").GetInt32());
            var received = await page.EvaluateAsync<int[]>("() => window.received.map(m => m.seq)");
            Assert.Equal([1, 3], received);
        });
    }

    [Fact]
    public async Task Subscribe_SinceSeqWithAnEpochThatIsGone_GapNamesTheSeqThePageResumedFrom()
    {
        await using var server = await LoopbackBrummer.StartAsync();
        await using var pages = await PageServer.StartAsync();
        server.Queue.Send("e2e.stale", new MessageDraft(Payload: JsonPayload.Parse("1")));
        server.Queue.Send("e2e.stale", new MessageDraft(Payload: JsonPayload.Parse("2")));
        var epoch = server.Queue.ListChannels().Single().Epoch;
        await browser.RunPageAsync(async page =>
        {
            await OpenClientPageAsync(page, pages, server);
            await page.EvaluateAsync<string>("([channel, options]) => window.subscribeTo(channel, options)", new object[] { "e2e.stale", new { sinceSeq = 7, epoch = "gone1234" } });

            await page.WaitForFunctionAsync("() => window.gaps.length === 1 && window.received.length === 2", null, s_wait);
            var gap = await page.EvaluateAsync<JsonElement>("() => window.gaps[0]");
            Assert.True(gap.GetProperty("epochChanged").GetBoolean());
            Assert.Equal("gone1234", gap.GetProperty("previousEpoch").GetString());
            Assert.Equal(epoch, gap.GetProperty("epoch").GetString());
            Assert.Equal(7, gap.GetProperty("lastSeq").GetInt32());
            var seqs = await page.EvaluateAsync<int[]>("() => window.received.map(m => m.seq)");
            Assert.Equal([1, 2], seqs);
        });
    }

    [Fact]
    public async Task Subscription_NothingMissedWhileAway_RecoveredWithoutAGap()
    {
        await using var server = await LoopbackBrummer.StartAsync();
        await using var pages = await PageServer.StartAsync();
        await browser.RunPageAsync(async page =>
        {
            await OpenClientPageAsync(page, pages, server, reconnectDelayMs: 1000);
            await page.EvaluateAsync<string>("channel => window.subscribeTo(channel)", "e2e.exact");
            server.Queue.Send("e2e.exact", new MessageDraft(Payload: JsonPayload.Parse("1")));
            await page.WaitForFunctionAsync("() => window.received.length === 1", null, s_wait);
            var firstId = await page.EvaluateAsync<string>("() => window.subscriptions['e2e.exact'].id");

            await page.EvaluateAsync("() => window.queue._socket.close(4001, 'simulated network drop')");
            await page.WaitForFunctionAsync("() => window.queue.status === 'reconnecting'", null, s_wait);
            server.Queue.Send("e2e.exact", new MessageDraft(Payload: JsonPayload.Parse("2")));

            await page.WaitForFunctionAsync(
                "id => window.received.length === 2 && window.subscriptions['e2e.exact'].id && window.subscriptions['e2e.exact'].id !== id",
                firstId,
                s_wait);
            Assert.True(await page.EvaluateAsync<bool>("() => window.subscriptions['e2e.exact'].recovered"));
            Assert.Equal(0, await page.EvaluateAsync<int>("() => window.gaps.length"));
            var received = await page.EvaluateAsync<int[]>("() => window.received.map(m => m.seq)");
            Assert.Equal([1, 2], received);
        });
    }

    private static async Task OpenClientPageAsync(IPage page, PageServer pages, TestServerHost server, int reconnectDelayMs = 100)
    {
        var origin = server.BaseAddress.GetLeftPart(UriPartial.Authority);
        await page.GotoAsync(pages.PageUrl("client-page.html", $"server={Uri.EscapeDataString(origin)}&delay={reconnectDelayMs}").ToString());
        await page.WaitForFunctionAsync("() => window.pageReady === true", null, s_wait);
        await page.EvaluateAsync("() => window.queue.opened()");
    }
}
