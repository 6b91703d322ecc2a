using System.Text.Json;
using BrummerQueue.Core;
using BrummerQueue.Server.Tests;
using Microsoft.Playwright;

namespace BrummerQueue.E2E.Tests;

/// <summary>client.js in real Chromium taking work with <c>receive(channel, {ackTimeout})</c> and confirming it with <c>ack(channel, ids)</c>.</summary>
public sealed class BrowserClientLeaseTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private static readonly PageWaitForFunctionOptions s_wait = new() { Timeout = 10_000 };

    [Fact]
    public async Task ReceiveWithAckTimeoutThenAck_PageTakesWorkAndConfirmsIt()
    {
        await using var server = await LoopbackBrummer.StartAsync();
        await using var pages = await PageServer.StartAsync();
        server.Queue.Send("e2e.jobs", new MessageDraft(Payload: JsonPayload.Parse("{\"task\":\"resize\"}")));
        await browser.RunPageAsync(async page =>
        {
            var origin = server.BaseAddress.GetLeftPart(UriPartial.Authority);
            await page.GotoAsync(pages.PageUrl("client-page.html", $"server={Uri.EscapeDataString(origin)}&delay=100").ToString());
            await page.WaitForFunctionAsync("() => window.pageReady === true", null, s_wait);
            await page.EvaluateAsync("() => window.queue.opened()");

            var result = await page.EvaluateAsync<JsonElement>("""
                async () => {
                  const taken = await window.queue.receive('e2e.jobs', { ackTimeout: 30 });
                  const hidden = await window.queue.receive('e2e.jobs');
                  const acked = await window.queue.ack('e2e.jobs', taken.messages.map(m => m.id));
                  return { task: taken.messages[0].payload.task, hidden: hidden.count, acked: acked.acked, notLeased: acked.not_leased.length };
                }
                """);

            Assert.Equal("resize", result.GetProperty("task").GetString());
            Assert.Equal(0, result.GetProperty("hidden").GetInt32());
            Assert.Equal(1, result.GetProperty("acked").GetInt32());
            Assert.Equal(0, result.GetProperty("notLeased").GetInt32());
        });

        Assert.Equal(new LeaseFigures(0, 1, 1, 0, 0), server.Queue.GetStats().Leases);
    }
}
