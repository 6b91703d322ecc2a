using System.Text.Json;
using BrummerQueue.Server.Tests;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace BrummerQueue.E2E.Tests;

/// <summary>
/// client.js in real Chromium when connections fail: the back-off when each connection dies right
/// after opening, the close code and reason reaching the page, and no retry after a refusal.
/// </summary>
public sealed class BrowserClientReconnectTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private const int InitialDelayMs = 100;
    private const int MaxDelayMs = 800;

    [Fact]
    public async Task Reconnect_EachConnectionClosedRightAfterOpening_BackOffGrowsToTheCapAndPageGetsCloseCode()
    {
        // A real cause: the page has three subscriptions and the server allows one frame per second,
        // so every connection is closed with 1008 as soon as the client makes them again.
        await using var server = await StartAsync(new() { ["Brummerq:MaxFramesPerSecond"] = "1" });
        await using var pages = await PageServer.StartAsync();
        await browser.RunPageAsync(async page =>
        {
            await page.GotoAsync(FailuresPage(pages, server, $"initial={InitialDelayMs}&max={MaxDelayMs}&channels=a,b,c"));

            // A bounded wait for a count: eight attempts take about 4 s with back-off, 0.6 s without.
            await page.WaitForFunctionAsync("() => window.attempts?.length >= 8", null, new() { Timeout = 30_000 });

            var attempts = await page.EvaluateAsync<double[]>("() => window.attempts.slice(0, 8)");
            for (var k = 0; k < attempts.Length - 1; k++)
            {
                // Before attempt k+1 the client waits step/2 to step, step = min(max, initial·2^k);
                // connecting adds a little. Without back-off every gap would stay near the first.
                var step = Math.Min(MaxDelayMs, InitialDelayMs << k);
                var gap = attempts[k + 1] - attempts[k];
                Assert.True(gap >= (step / 2.0) - 2, $"gap {k} was {gap:F0} ms, expected at least {step / 2} ms (step {step} ms); attempts at {string.Join(", ", attempts.Select(a => a.ToString("F0", System.Globalization.CultureInfo.InvariantCulture)))}");
            }

            // The cap: every scheduled delay is at most maxDelayMs, and from the fourth on at least half of it.
            var delays = await page.EvaluateAsync<int[]>("() => window.statuses.filter((s) => s.delayMs !== undefined).map((s) => s.delayMs)");
            Assert.True(delays.Length >= attempts.Length - 1, $"{delays.Length} delays for {attempts.Length} attempts");
            Assert.All(delays, d => Assert.InRange(d, InitialDelayMs / 2, MaxDelayMs));
            Assert.All(delays.Skip(3), d => Assert.InRange(d, MaxDelayMs / 2, MaxDelayMs));

            var errors = await page.EvaluateAsync<JsonElement>("() => window.errors");
            Assert.Contains(errors.EnumerateArray(), e =>
                e.GetProperty("code").GetString() == "connection_failed"
                && e.GetProperty("closeCode").GetInt32() == 1008
                && e.GetProperty("closeReason").GetString() == "rate limit exceeded");
            Assert.Contains(errors.EnumerateArray(), e => e.GetProperty("code").GetString() == "rate_limited");
            var statuses = await page.EvaluateAsync<JsonElement>("() => window.statuses");
            Assert.Contains(statuses.EnumerateArray(), s =>
                s.GetProperty("status").GetString() == "reconnecting"
                && s.TryGetProperty("code", out var code) && code.GetInt32() == 1008
                && s.GetProperty("reason").GetString() == "rate limit exceeded");
        });
    }

    [Theory]
    [InlineData("", "token required")]
    [InlineData("&token=wrong", "token refused")]
    public async Task Connect_WithoutTheServersToken_PageGets4401AndReasonAndClientStopsRetrying(string tokenQuery, string reasonStart)
    {
        await using var server = await StartAsync(new() { ["Brummerq:Token"] = "s3cret" });
        await using var pages = await PageServer.StartAsync();
        await browser.RunPageAsync(async page =>
        {
            // Timers run only when the test advances them: a retry would show up as a new socket.
            await page.Clock.InstallAsync();
            var sockets = 0;
            page.WebSocket += (_, _) => Interlocked.Increment(ref sockets);
            await page.GotoAsync(FailuresPage(pages, server, $"initial={InitialDelayMs}&max={MaxDelayMs}{tokenQuery}"));
            await Expect(page.Locator("#status")).ToHaveTextAsync("closed");

            await page.Clock.RunForAsync(60_000);

            Assert.Equal(1, Volatile.Read(ref sockets));
            Assert.Equal(1, await page.EvaluateAsync<int>("() => window.attempts.length"));
            var errors = await page.EvaluateAsync<JsonElement>("() => window.errors");
            // The server's error frame (no id) comes first, with the full explanation; then the close ends the client.
            Assert.Equal(["unauthorized", "refused"], errors.EnumerateArray().Select(e => e.GetProperty("code").GetString()));
            var refusal = errors[1];
            Assert.Equal(4401, refusal.GetProperty("closeCode").GetInt32());
            Assert.StartsWith(reasonStart, refusal.GetProperty("closeReason").GetString(), StringComparison.Ordinal);
            var last = await page.EvaluateAsync<JsonElement>("() => window.statuses.at(-1)");
            Assert.Equal("closed", last.GetProperty("status").GetString());
            Assert.Equal(4401, last.GetProperty("code").GetInt32());
            Assert.Equal("refused 4401", await page.EvaluateAsync<string>("() => window.queue.opened().then(() => 'open', (e) => `${e.code} ${e.closeCode}`)"));
            Assert.Equal("refused", await page.EvaluateAsync<string>("() => window.queue.send('c', 1).then(() => 'sent', (e) => e.code)"));
        });
    }

    [Fact]
    public async Task Connect_WithTheServersToken_StaysOpen()
    {
        await using var server = await StartAsync(new() { ["Brummerq:Token"] = "s3cret" });
        await using var pages = await PageServer.StartAsync();
        await browser.RunPageAsync(async page =>
        {
            await page.GotoAsync(FailuresPage(pages, server, "token=s3cret"));
            await page.WaitForFunctionAsync("() => window.pageReady === true", null, new() { Timeout = 10_000 });

            var ack = await page.EvaluateAsync<JsonElement>("() => window.queue.send('e2e.token', 'let in')");

            Assert.Equal(1, ack.GetProperty("seq").GetInt64());
            Assert.Equal(0, await page.EvaluateAsync<int>("() => window.errors.length"));
        });
    }

    private static string FailuresPage(PageServer pages, TestServerHost server, string query) =>
        pages.PageUrl("client-failures.html", $"server={Uri.EscapeDataString(server.BaseAddress.GetLeftPart(UriPartial.Authority))}&{query}").ToString();

    private static Task<TestServerHost> StartAsync(Dictionary<string, string?> settings)
    {
        settings["Logging:LogLevel:Default"] = "Warning";
        return TestServerHost.StartOnLoopbackAsync(settings);
    }
}
