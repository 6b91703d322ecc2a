using BrummerQueue.Server.Tests;
using static Microsoft.Playwright.Assertions;

namespace BrummerQueue.E2E.Tests;

/// <summary>
/// Pages whose origin is opaque (Origin <c>null</c>) in real Chromium: a page opened from a file and a
/// sandboxed frame are refused by default and let in by <c>--allowed-origin null</c>.
/// </summary>
public sealed class BrowserNullOriginTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task FilePage_ByDefault_RefusedAndWithAllowedOriginNull_Accepted()
    {
        await using var refusing = await StartAsync(allowNull: false);
        await using var allowing = await StartAsync(allowNull: true);
        var file = new Uri(Path.Combine(AppContext.BaseDirectory, "Pages", "file-page.html")).AbsoluteUri;
        await browser.RunPageAsync(async page =>
        {
            await page.GotoAsync($"{file}?server={Uri.EscapeDataString(Origin(refusing))}");
            await Expect(page.Locator("#socket")).ToHaveTextAsync("closed: 1006");
            await Expect(page.Locator("#client")).ToHaveTextAsync("import failed");
            Assert.Empty(refusing.Queue.ListChannels());

            await page.GotoAsync($"{file}?server={Uri.EscapeDataString(Origin(allowing))}");
            await Expect(page.Locator("#socket")).ToHaveTextAsync("open: connected");
            await Expect(page.Locator("#client")).ToHaveTextAsync("sent: 1");
            Assert.Equal(1, allowing.Queue.ListChannels().Single(c => c.Name == "e2e.file").Messages);
        });
    }

    [Fact]
    public async Task SandboxedFrame_ByDefault_RefusedAndWithAllowedOriginNull_Accepted()
    {
        await using var refusing = await StartAsync(allowNull: false);
        await using var allowing = await StartAsync(allowNull: true);
        await using var pages = await PageServer.StartAsync();
        await browser.RunPageAsync(async page =>
        {
            await page.GotoAsync(pages.PageUrl("sandboxed-frame.html", $"ws=ws://127.0.0.1:{refusing.BaseAddress.Port}/__brummer_ws__").ToString());
            await Expect(page.FrameLocator("iframe").Locator("#outcome")).ToHaveTextAsync("closed: 1006");

            await page.GotoAsync(pages.PageUrl("sandboxed-frame.html", $"ws=ws://127.0.0.1:{allowing.BaseAddress.Port}/__brummer_ws__").ToString());
            await Expect(page.FrameLocator("iframe").Locator("#outcome")).ToHaveTextAsync("open: connected");
        });
    }

    private static string Origin(TestServerHost server) => server.BaseAddress.GetLeftPart(UriPartial.Authority);

    private static Task<TestServerHost> StartAsync(bool allowNull)
    {
        var settings = new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Warning" };
        if (allowNull)
        {
            settings["Brummerq:AllowedOrigins:0"] = "null";
        }

        return TestServerHost.StartOnLoopbackAsync(settings);
    }
}
