using BrummerQueue.Core;
using static Microsoft.Playwright.Assertions;

namespace BrummerQueue.E2E.Tests;

/// <summary>The live dashboard at <c>/</c> in real Chromium.</summary>
public sealed class DashboardTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task Dashboard_NewChannelAndMessage_ShowsThemLive()
    {
        await using var server = await LoopbackBrummer.StartAsync();
        await browser.RunPageAsync(async page =>
        {
            await page.GotoAsync(server.BaseAddress.ToString());
            await Expect(page.Locator("#connection")).ToHaveTextAsync("open");

            server.Queue.Send("dash.orders", new MessageDraft("order", JsonPayload.Parse("""{"id":1}""")));
            var row = page.Locator("#channels tr[data-channel='dash.orders']");
            await Expect(row).ToBeVisibleAsync();
            await row.ClickAsync();
            await Expect(page.Locator("#tail-info")).ToHaveTextAsync("live");
            server.Queue.Send("dash.orders", new MessageDraft("order", JsonPayload.Parse("""{"id":2}""")));

            await Expect(page.Locator("#tail li[data-seq='2'] .payload")).ToContainTextAsync("\"id\": 2");
            await Expect(page.Locator("#tail li[data-seq='1'] .payload")).ToContainTextAsync("\"id\": 1");
            await Expect(row.Locator("td").Nth(3)).ToHaveTextAsync("2");
            await Expect(page.Locator("[data-stat='messages_sent']")).ToHaveTextAsync("2");
        });
    }

    [Fact]
    public async Task SendForm_ValidAndInvalidInput_SendsOrShowsErrors()
    {
        await using var server = await LoopbackBrummer.StartAsync();
        await browser.RunPageAsync(async page =>
        {
            await page.GotoAsync(server.BaseAddress.ToString());
            await Expect(page.Locator("#connection")).ToHaveTextAsync("open");

            await page.FillAsync("input[name=channel]", "bad channel!");
            await page.FillAsync("textarea[name=payload]", "{not json");
            await page.FillAsync("input[name=ttl]", "-5");
            await page.ClickAsync("#send-form button[type=submit]");
            await Expect(page.Locator(".field-error[data-for=channel]")).ToContainTextAsync("channel must be 1–128 characters");
            await Expect(page.Locator(".field-error[data-for=payload]")).ToContainTextAsync("payload is not valid JSON");
            await Expect(page.Locator(".field-error[data-for=ttl]")).ToHaveTextAsync("ttl must be an integer between 0 and 604800");

            await page.FillAsync("input[name=channel]", "dash.form");
            await page.FillAsync("input[name=type]", "note");
            await page.FillAsync("textarea[name=payload]", """{"text": "from the form"}""");
            await page.FillAsync("input[name=ttl]", "0");
            await page.ClickAsync("#send-form button[type=submit]");
            await Expect(page.Locator("#send-result")).ToHaveTextAsync("stored in dash.form as seq 1");

            var result = await server.Queue.ReceiveAsync(new ReceiveRequest { Channel = "dash.form" }, TestContext.Current.CancellationToken);
            var message = Assert.Single(result.Messages);
            Assert.Equal("note", message.Type);
            Assert.Equal("""{"text":"from the form"}""", message.Payload.ToString());
            Assert.Equal(0, message.TtlSeconds);
        });
    }
}
