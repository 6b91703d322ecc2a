using System.Text.Json;
using BrummerQueue.Core;
using BrummerQueue.Server.Tests;
using Microsoft.Playwright;

namespace BrummerQueue.E2E.Tests;

/// <summary>
/// client.js in real Chromium with a wildcard subscription, <c>subscribe('e2e.&gt;')</c> (issue 13 point 2): every matching
/// channel's messages with their channel, new channels included; after a reconnect it subscribes again and tells the page
/// through <c>onGap</c> (<c>pattern: true</c>) that messages sent meanwhile may be missing.
/// </summary>
public sealed class BrowserClientPatternTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private static readonly PageWaitForFunctionOptions s_wait = new() { Timeout = 10_000 };

    [Fact]
    public async Task SubscribePattern_MatchingChannelsAndAReconnect_PageGetsEachWithItsChannelAndAPatternGap()
    {
        using var queue = MessageQueue.CreateInMemory();
        TestServerHost? first = await LoopbackBrummer.StartAsync(0, queue);
        var port = first.BaseAddress.Port;
        TestServerHost? second = null;
        await using var pages = await PageServer.StartAsync();
        try
        {
            await browser.RunPageAsync(async page =>
            {
                var origin = first.BaseAddress.GetLeftPart(UriPartial.Authority);
                await page.GotoAsync(pages.PageUrl("client-page.html", $"server={Uri.EscapeDataString(origin)}&delay=100").ToString());
                await page.WaitForFunctionAsync("() => window.pageReady === true", null, s_wait);
                await page.EvaluateAsync("() => window.queue.opened()");
                queue.Send("e2e.a", new MessageDraft(Payload: JsonPayload.Parse("0")));
                await page.EvaluateAsync<string>("channel => window.subscribeTo(channel)", "e2e.>");

                queue.Send("e2e.a", new MessageDraft(Payload: JsonPayload.Parse("1")));
                queue.Send("other", new MessageDraft(Payload: JsonPayload.Parse("2")));
                await page.EvaluateAsync("() => window.queue.send('e2e.page.made', 3)");
                await page.WaitForFunctionAsync("() => window.received.length === 2", null, s_wait);
                Assert.Null(await page.EvaluateAsync<string?>("() => window.subscriptions['e2e.>'].epoch"));

                await first.DisposeAsync();
                first = null;
                await page.WaitForFunctionAsync("() => window.queue.status === 'reconnecting'", null, s_wait);
                second = await LoopbackBrummer.StartAsync(port, queue);
                await page.WaitForFunctionAsync("() => window.gaps.length === 1 && window.subscriptions['e2e.>'].id !== null", null, s_wait);
                var gap = await page.EvaluateAsync<JsonElement>("() => window.gaps[0]");
                Assert.True(gap.GetProperty("pattern").GetBoolean());
                Assert.Equal("e2e.>", gap.GetProperty("channel").GetString());

                // Seqs are per channel: a lower seq of another channel is delivered, not taken for a repeat.
                await page.EvaluateAsync<string>("() => window.subscriptions['e2e.>'].ready.then(s => s.id)");
                queue.Send("e2e.late", new MessageDraft(Payload: JsonPayload.Parse("4")));
                await page.WaitForFunctionAsync("() => window.received.length === 3", null, s_wait);
                var received = await page.EvaluateAsync<string[]>("() => window.received.map(m => `${m.channel} ${m.seq} ${m.payload}`)");
                Assert.Equal(["e2e.a 2 1", "e2e.page.made 1 3", "e2e.late 1 4"], received);
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
}
