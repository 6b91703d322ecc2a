using System.Text.Json;
using BrummerQueue.Server.Tests;
using Microsoft.Playwright;

namespace BrummerQueue.E2E.Tests;

/// <summary>
/// Request/reply between an assistant and a page (issue 13, "the assistant asking the page"): MCP <c>queue_request</c>
/// answered by client.js <c>respond</c> in real Chromium, and a page's <c>request</c> answered by the assistant.
/// </summary>
public sealed class BrowserRequestReplyTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private static readonly PageWaitForFunctionOptions s_wait = new() { Timeout = 10_000 };

    [Fact]
    public async Task McpQueueRequest_AnsweredByPageRespond_ReturnsTheHandlersResult()
    {
        await using var server = await LoopbackBrummer.StartAsync();
        await using var pages = await PageServer.StartAsync();
        await using var assistant = await McpTestClient.ConnectAsync(server);
        await browser.RunPageAsync(async page =>
        {
            await OpenClientPageAsync(page, pages, server);
            await page.EvaluateAsync("""
                () => window.queue.respond('page.state', async (payload) => {
                  if (payload?.fail) throw Object.assign(new Error('no such field: ' + payload.fail), { code: 'bad_field' });
                  return { title: 'Checkout', items: 3, asked: payload };
                }).ready
                """);

            var answered = await assistant.CallAsync("queue_request", new()
            {
                ["channel"] = "page.state",
                ["type"] = "get_state",
                ["payload"] = new Dictionary<string, object?> { ["field"] = "cart" },
                ["timeout"] = 10,
            });
            var reply = answered.GetProperty("reply");
            Assert.Equal("reply", reply.GetProperty("type").GetString());
            Assert.Equal("Checkout", reply.GetProperty("payload").GetProperty("title").GetString());
            Assert.Equal("cart", reply.GetProperty("payload").GetProperty("asked").GetProperty("field").GetString());
            Assert.Equal(answered.GetProperty("request_id").GetString(), reply.GetProperty("correlation_id").GetString());

            // A handler that throws answers with an error reply instead of leaving the assistant waiting.
            var failed = await assistant.CallAsync("queue_request", new()
            {
                ["channel"] = "page.state",
                ["payload"] = new Dictionary<string, object?> { ["fail"] = "colour" },
                ["timeout"] = 10,
            });
            var error = failed.GetProperty("reply");
            Assert.Equal("error", error.GetProperty("type").GetString());
            Assert.Equal("no such field: colour", error.GetProperty("payload").GetProperty("message").GetString());
            Assert.Equal("bad_field", error.GetProperty("payload").GetProperty("code").GetString());
        });
    }

    [Fact]
    public async Task PageRequest_AnsweredByAssistant_ResolvesWithTheReply()
    {
        await using var server = await LoopbackBrummer.StartAsync();
        await using var pages = await PageServer.StartAsync();
        await using var assistant = await McpTestClient.ConnectAsync(server);
        await browser.RunPageAsync(async page =>
        {
            await OpenClientPageAsync(page, pages, server);
            await page.EvaluateAsync("""
                () => { window.answer = window.queue.request('assistant.questions', { text: 'Summarise this page' }, { timeout: 10 }); }
                """);

            var received = await assistant.CallAsync("queue_receive", new() { ["channel"] = "assistant.questions", ["blocking"] = true, ["timeout"] = 10 });
            var question = received.GetProperty("messages")[0];
            await assistant.CallAsync("queue_send", new()
            {
                ["channel"] = question.GetProperty("reply_to").GetString(),
                ["correlation_id"] = question.GetProperty("id").GetString(),
                ["payload"] = "A checkout page with 3 items.",
            });

            var reply = await page.EvaluateAsync<JsonElement>("() => window.answer");
            Assert.Equal("A checkout page with 3 items.", reply.GetProperty("payload").GetString());
            Assert.Equal(question.GetProperty("id").GetString(), reply.GetProperty("correlation_id").GetString());

            // No answer: the promise rejects with code timeout.
            var code = await page.EvaluateAsync<string>("() => window.queue.request('nobody.home', 1, { timeout: 0.3 }).then(() => 'resolved', e => e.code)");
            Assert.Equal("timeout", code);
        });
    }

    private static async Task OpenClientPageAsync(IPage page, PageServer pages, TestServerHost server)
    {
        var origin = server.BaseAddress.GetLeftPart(UriPartial.Authority);
        await page.GotoAsync(pages.PageUrl("client-page.html", $"server={Uri.EscapeDataString(origin)}&delay=100").ToString());
        await page.WaitForFunctionAsync("() => window.pageReady === true", null, s_wait);
        await page.EvaluateAsync("() => window.queue.opened()");
    }
}
