using BrummerQueue.Core;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace BrummerQueue.E2E.Tests;

/// <summary>The dashboard's channel filter in real Chromium: a name part or a wildcard pattern filters the channel list, and a pattern is tailed live.</summary>
public sealed class DashboardPatternTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task ChannelFilter_Pattern_ListsMatchingChannelsAndTailsEveryOneWithItsChannel()
    {
        await using var server = await LoopbackBrummer.StartAsync();
        server.Queue.Send("dash.app.a", new MessageDraft());
        server.Queue.Send("dash.app.b.deep", new MessageDraft());
        server.Queue.Send("dash.web", new MessageDraft());
        await browser.RunPageAsync(async page =>
        {
            await page.GotoAsync(server.BaseAddress.ToString());
            await Expect(page.Locator("#connection")).ToHaveTextAsync("open");
            await Expect(page.Locator("#channels tbody tr")).ToHaveCountAsync(3);

            var filter = page.Locator("#channel-filter input[name=filter]");
            await filter.FillAsync("dash.app.*");
            await Expect(page.Locator("#channels tbody tr")).ToHaveCountAsync(1);
            await filter.FillAsync("web");
            await Expect(page.Locator("#channels tbody tr[data-channel='dash.web']")).ToHaveCountAsync(1);
            await Expect(page.Locator("#channels tbody tr")).ToHaveCountAsync(1);
            await filter.FillAsync("dash.app.>");
            await Expect(page.Locator("#channels tbody tr")).ToHaveCountAsync(2);

            await filter.PressAsync("Enter");
            await Expect(page.Locator("#tail-channel")).ToHaveTextAsync("— dash.app.>");
            await Expect(page.Locator("#tail-info")).ToHaveTextAsync("live");
            server.Queue.Send("dash.app.new", new MessageDraft(Payload: JsonPayload.Parse("1")));
            server.Queue.Send("dash.web", new MessageDraft(Payload: JsonPayload.Parse("2")));
            server.Queue.Send("dash.app.a", new MessageDraft(Payload: JsonPayload.Parse("3")));

            await Expect(page.Locator("#tail li[data-channel='dash.app.a'][data-seq='2'] .payload")).ToHaveTextAsync("3");
            await Expect(page.Locator("#tail li[data-channel='dash.app.new'] .channel")).ToHaveTextAsync("dash.app.new");
            await Expect(page.Locator("#tail li[data-channel='dash.web']")).ToHaveCountAsync(0);
        });
    }
}
