using System.Text.Json;
using BrummerQueue.Core;
using BrummerQueue.Server.Tests;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace BrummerQueue.E2E.Tests;

/// <summary>client.js in real Chromium, imported by a page on another loopback port.</summary>
public sealed class BrowserClientTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private static readonly PageWaitForFunctionOptions s_wait = new() { Timeout = 10_000 };

    [Fact]
    public async Task Subscribe_MessageSentByMcpClient_ShowsOnPage()
    {
        await using var server = await LoopbackBrummer.StartAsync();
        await using var pages = await PageServer.StartAsync();
        await using var assistant = await McpTestClient.ConnectAsync(server);
        await browser.RunPageAsync(async page =>
        {
            await OpenClientPageAsync(page, pages, server);
            await page.EvaluateAsync<string>("channel => window.subscribeTo(channel)", "e2e.events");

            await assistant.CallAsync("queue_send", new()
            {
                ["channel"] = "e2e.events",
                ["type"] = "greeting",
                ["payload"] = new Dictionary<string, object?> { ["text"] = "hello from the assistant" },
            });

            await Expect(page.Locator("#log li")).ToHaveTextAsync(["e2e.events #1 greeting {\"text\":\"hello from the assistant\"}"]);
        });
    }

    [Fact]
    public async Task Send_FromPage_McpQueueReceiveGetsIt()
    {
        await using var server = await LoopbackBrummer.StartAsync();
        await using var pages = await PageServer.StartAsync();
        await using var assistant = await McpTestClient.ConnectAsync(server);
        await browser.RunPageAsync(async page =>
        {
            await OpenClientPageAsync(page, pages, server);

            var ack = await page.EvaluateAsync<JsonElement>(
                "() => window.queue.send('e2e.inbox', {clicked: 'buy'}, {type: 'ui_event', ttl: 60})");

            Assert.Equal(1, ack.GetProperty("seq").GetInt64());
            Assert.Equal("e2e.inbox", ack.GetProperty("channel").GetString());
            var result = await assistant.CallAsync("queue_receive", new() { ["channel"] = "e2e.inbox" });
            Assert.Equal(1, result.GetProperty("count").GetInt32());
            var message = result.GetProperty("messages")[0];
            Assert.Equal(ack.GetProperty("message_id").GetString(), message.GetProperty("id").GetString());
            Assert.Equal("ui_event", message.GetProperty("type").GetString());
            Assert.Equal("buy", message.GetProperty("payload").GetProperty("clicked").GetString());
            Assert.Equal(60, message.GetProperty("ttl").GetInt32());
            Assert.DoesNotContain(server.Queue.ListChannels(), c => c.Messages > 0);
        });
    }

    [Fact]
    public async Task Send_WhileReconnecting_WaitsAndIsStoredOnce()
    {
        await using var server = await LoopbackBrummer.StartAsync();
        await using var pages = await PageServer.StartAsync();
        await browser.RunPageAsync(async page =>
        {
            await OpenClientPageAsync(page, pages, server, reconnectDelayMs: 1000);
            await page.EvaluateAsync("() => window.queue._socket.close(4001, 'simulated network drop')");
            await page.WaitForFunctionAsync("() => window.queue.status === 'reconnecting'", null, s_wait);

            var ack = await page.EvaluateAsync<JsonElement>("() => window.queue.send('e2e.queued', 'made while offline')");

            Assert.Equal("open", await page.EvaluateAsync<string>("() => window.queue.status"));
            Assert.Equal(1, ack.GetProperty("seq").GetInt64());
            var stored = server.Queue.ListChannels().Single(c => c.Name == "e2e.queued");
            Assert.Equal(1, stored.Messages);
        });
    }

    [Fact]
    public async Task Subscription_ServerRestarts_ResumesWithoutLosingRetainedMessages()
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
                await page.EvaluateAsync<string>("channel => window.subscribeTo(channel)", "e2e.resume");
                first.Queue.Send("e2e.resume", new MessageDraft(Payload: JsonPayload.Parse("1")));
                await page.WaitForFunctionAsync("() => window.received.length === 1", null, s_wait);

                await first.DisposeAsync();
                first = null;
                await page.WaitForFunctionAsync("() => window.queue.status === 'reconnecting'", null, s_wait);

                // Sent to the new server before it listens: retained while the page is still reconnecting.
                restartedQueue.Send("e2e.resume", new MessageDraft(Payload: JsonPayload.Parse("2")));
                restartedQueue.Send("e2e.resume", new MessageDraft(Payload: JsonPayload.Parse("3")));
                second = await LoopbackBrummer.StartAsync(port, restartedQueue);
                await page.WaitForFunctionAsync("() => window.received.length === 3", null, s_wait);
                second.Queue.Send("e2e.resume", new MessageDraft(Payload: JsonPayload.Parse("4")));

                await page.WaitForFunctionAsync("() => window.received.length === 4", null, s_wait);
                var payloads = await page.EvaluateAsync<int[]>("() => window.received.map(m => m.payload)");
                Assert.Equal([1, 2, 3, 4], payloads);
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
    public async Task Subscription_SocketDrops_GetsMessagesSentWhileReconnecting()
    {
        await using var server = await LoopbackBrummer.StartAsync();
        await using var pages = await PageServer.StartAsync();
        await using var assistant = await McpTestClient.ConnectAsync(server);
        await browser.RunPageAsync(async page =>
        {
            await assistant.CallAsync("queue_send", new() { ["channel"] = "e2e.gap", ["payload"] = "before the subscription" });
            await OpenClientPageAsync(page, pages, server, reconnectDelayMs: 1000);
            await page.EvaluateAsync<string>("channel => window.subscribeTo(channel)", "e2e.gap");

            // Dropped before any message arrived: the resume must still bring what was sent meanwhile, and only that.
            await page.EvaluateAsync("() => window.queue._socket.close(4001, 'simulated network drop')");
            await page.WaitForFunctionAsync("() => window.queue.status === 'reconnecting'", null, s_wait);
            await assistant.CallAsync("queue_send", new() { ["channel"] = "e2e.gap", ["payload"] = "while away 1" });
            await page.WaitForFunctionAsync("() => window.received.length === 1", null, s_wait);

            // Dropped after a message: resumes after the last seq seen.
            await page.EvaluateAsync("() => window.queue._socket.close(4001, 'simulated network drop')");
            await page.WaitForFunctionAsync("() => window.queue.status === 'reconnecting'", null, s_wait);
            await assistant.CallAsync("queue_send", new() { ["channel"] = "e2e.gap", ["payload"] = "while away 2" });
            await page.WaitForFunctionAsync("() => window.received.length === 2", null, s_wait);
            await assistant.CallAsync("queue_send", new() { ["channel"] = "e2e.gap", ["payload"] = "live" });

            await page.WaitForFunctionAsync("() => window.received.length === 3", null, s_wait);
            var received = await page.EvaluateAsync<string[]>("() => window.received.map(m => `${m.seq} ${m.payload}`)");
            Assert.Equal(["2 while away 1", "3 while away 2", "4 live"], received);
        });
    }

    [Fact]
    public async Task Subscription_ChannelRecreatedWhileAway_ResumesFromItsFirstMessage()
    {
        await using var server = await LoopbackBrummer.StartAsync();
        await using var pages = await PageServer.StartAsync();
        await using var assistant = await McpTestClient.ConnectAsync(server);
        await browser.RunPageAsync(async page =>
        {
            await OpenClientPageAsync(page, pages, server, reconnectDelayMs: 1000);
            await page.EvaluateAsync<string>("channel => window.subscribeTo(channel)", "e2e.recreated");
            await assistant.CallAsync("queue_send", new() { ["channel"] = "e2e.recreated", ["payload"] = "first life" });
            await page.WaitForFunctionAsync("() => window.received.length === 1", null, s_wait);

            // While the page is away the channel is consumed, removed by cleanup and made again: seq restarts at 1.
            await page.EvaluateAsync("() => window.queue._socket.close(4001, 'simulated network drop')");
            await page.WaitForFunctionAsync("() => window.queue.status === 'reconnecting'", null, s_wait);
            await WaitUntilAsync(() => server.Queue.ListChannels().All(c => c.Subscriptions == 0));
            await assistant.CallAsync("queue_receive", new() { ["channel"] = "e2e.recreated" });
            server.Queue.Sweep();
            Assert.DoesNotContain(server.Queue.ListChannels(), c => c.Name == "e2e.recreated");
            await assistant.CallAsync("queue_send", new() { ["channel"] = "e2e.recreated", ["payload"] = "second life" });
            Assert.Equal(1, server.Queue.ListChannels().Single(c => c.Name == "e2e.recreated").LastSeq);

            await page.WaitForFunctionAsync("() => window.received.length === 2", null, s_wait);
            var received = await page.EvaluateAsync<string[]>("() => window.received.map(m => `${m.seq} ${m.payload}`)");
            Assert.Equal(["1 first life", "1 second life"], received);
        });
    }

    [Fact]
    public async Task Subscription_EndedByServer_IsMadeAgainWithoutLoss()
    {
        await using var server = await LoopbackBrummer.StartAsync();
        await using var pages = await PageServer.StartAsync();
        await using var assistant = await McpTestClient.ConnectAsync(server);
        await browser.RunPageAsync(async page =>
        {
            await OpenClientPageAsync(page, pages, server);
            var first = await page.EvaluateAsync<string>("channel => window.subscribeTo(channel)", "e2e.ended");
            await assistant.CallAsync("queue_send", new() { ["channel"] = "e2e.ended", ["payload"] = 1 });
            await page.WaitForFunctionAsync("() => window.received.length === 1", null, s_wait);

            // As cleanup would: the server ends the page's subscription, then a message is sent at once.
            Assert.True(server.Queue.Unsubscribe(first));
            await assistant.CallAsync("queue_send", new() { ["channel"] = "e2e.ended", ["payload"] = 2 });

            await page.WaitForFunctionAsync("() => window.received.length === 2", null, s_wait);
            var payloads = await page.EvaluateAsync<int[]>("() => window.received.map(m => m.payload)");
            Assert.Equal([1, 2], payloads);
            Assert.Equal(1, server.Queue.ListChannels().Single(c => c.Name == "e2e.ended").Subscriptions);
        });
    }

    [Fact]
    public async Task Connect_FromForeignOrigin_IsRefused()
    {
        await using var server = await LoopbackBrummer.StartAsync();
        await using var pages = await PageServer.StartAsync();
        var socketUrl = $"ws=ws://127.0.0.1:{server.BaseAddress.Port}/__brummer_ws__";
        await browser.RunPageAsync(async page =>
        {
            await page.GotoAsync(pages.PageUrl("raw-socket.html", socketUrl).ToString());
            await page.WaitForFunctionAsync("() => window.socketOutcome !== undefined", null, s_wait);
            Assert.Equal("open: connected", await page.EvaluateAsync<string>("() => window.socketOutcome"));

            await page.GotoAsync(pages.PageUrl("raw-socket.html", socketUrl, BrowserFixture.ForeignHost).ToString());
            await page.WaitForFunctionAsync("() => window.socketOutcome !== undefined", null, s_wait);
            Assert.Equal("closed: 1006", await page.EvaluateAsync<string>("() => window.socketOutcome"));
        });
    }

    /// <summary>Waits for a server-side state that has no event to await (a closed socket's clean-up); fails after 10 s.</summary>
    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
        while (!condition())
        {
            await tick.WaitForNextTickAsync(timeout.Token);
        }
    }

    private static async Task OpenClientPageAsync(IPage page, PageServer pages, TestServerHost server, int reconnectDelayMs = 100)
    {
        var origin = server.BaseAddress.GetLeftPart(UriPartial.Authority);
        await page.GotoAsync(pages.PageUrl("client-page.html", $"server={Uri.EscapeDataString(origin)}&delay={reconnectDelayMs}").ToString());
        await page.WaitForFunctionAsync("() => window.pageReady === true", null, s_wait);
        await page.EvaluateAsync("() => window.queue.opened()");
    }
}
