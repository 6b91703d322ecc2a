using System.Text.Json;
using BrummerQueue.Core;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace BrummerQueue.E2E.Tests;

/// <summary>The live dashboard at <c>/</c> in real Chromium.</summary>
public sealed class DashboardTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    /// <summary>
    /// Page script: for every element matching the selector, its text and the indexes of the
    /// characters that begin a new rendered line, whether its content is cut (wider than the box),
    /// and its title; as JSON (read by <see cref="LayoutAsync"/>).
    /// </summary>
    private const string LayoutScript = """
        (selector) => JSON.stringify([...document.querySelectorAll(selector)].map((element) => {
          const tops = [];
          const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
          for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (let i = 0; i < node.length; i++) {
              const range = document.createRange();
              range.setStart(node, i);
              range.setEnd(node, i + 1);
              const rect = range.getClientRects()[0];
              tops.push(rect ? rect.top : null);
            }
          }
          const lineStarts = [];
          let top = null;
          tops.forEach((t, i) => {
            if (t === null) return;
            if (top !== null && t > top + 2) lineStarts.push(i);
            top = t;
          });
          return { text: element.textContent, lineStarts, cut: element.scrollWidth > element.clientWidth, title: element.title };
        }))
        """;

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

    [Fact]
    public async Task Dashboard_At1280Wide_NamesBreakOnlyAtSeparatorsAndFiguresStayOnOneLine()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var queue = MessageQueue.CreateInMemory(timeProvider: clock);
        string[] typical = ["assistant-replies", "notifications", "user-events", "from-stdio", "ci"];
        string[] separated = ["app/user:1/events.audit-log", "tenant-42/orders/created"];
        var unbroken = "a-very-long-channel-name-without-any-separator-0123456789";
        foreach (var name in typical.Concat(separated).Append(unbroken))
        {
            queue.Send(name, new MessageDraft(Payload: JsonPayload.Parse("1"), TtlSeconds: 0));
        }

        // Two days of uptime: the longest uptime text there is ("1d 23h"; it was "47 h 59 min").
        clock.Advance(TimeSpan.FromHours(47) + TimeSpan.FromMinutes(59));
        await using var server = await LoopbackBrummer.StartAsync(queue: queue);
        await browser.RunPageAsync(async page =>
        {
            await page.SetViewportSizeAsync(1280, 800);
            await page.GotoAsync(server.BaseAddress.ToString());
            await Expect(page.Locator($"#channels tr[data-channel='{unbroken}']")).ToBeVisibleAsync();
            await Expect(page.Locator("[data-stat='uptime_seconds']")).Not.ToHaveTextAsync("–");

            var names = await LayoutAsync(page, "#channels td.name");
            Assert.Equal(typical.Length + separated.Length + 1, names.Length);
            foreach (var name in names)
            {
                foreach (var start in name.LineStarts)
                {
                    Assert.True(start > 0 && name.Text[start - 1] is '/' or '.' or ':', $"'{name.Text}' breaks mid-word before character {start}");
                }

                Assert.True(!name.Cut || name.Title == name.Text, $"'{name.Text}' is cut without its full name as the title");
                if (typical.Contains(name.Text))
                {
                    Assert.True(name.LineStarts.Length == 0 && !name.Cut, $"'{name.Text}' is not shown whole on one line");
                }
            }

            var figures = await LayoutAsync(page, "#totals .stat .value");
            Assert.Equal(9, figures.Length);
            foreach (var figure in figures)
            {
                Assert.True(figure.LineStarts.Length == 0 && !figure.Cut, $"the figure '{figure.Text}' wraps or is cut");
            }

            Assert.Equal("1d 23h", figures[^1].Text);
        });
    }

    [Fact]
    public async Task Dashboard_ServerWithTokenOpenedWithoutIt_ShowsTokenNeededStopsRetryingAndConnectsOnceGiven()
    {
        await using var server = await LoopbackBrummer.StartAsync(token: "s3cret");
        server.Queue.Send("tok.orders", new MessageDraft());
        await browser.RunPageAsync(async page =>
        {
            // Timers run only when the test advances them: a retry loop shows up as requests.
            await page.Clock.InstallAsync();
            var apiRequests = 0;
            var sockets = 0;
            page.Request += (_, request) =>
            {
                if (request.Url.Contains("/api/", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref apiRequests);
                }
            };
            page.WebSocket += (_, _) => Interlocked.Increment(ref sockets);

            await page.GotoAsync(server.BaseAddress.ToString());
            await Expect(page.Locator("#connection")).ToHaveTextAsync("token needed");
            await Expect(page.Locator("#token-needed")).ToContainTextAsync("needs a token");
            await Expect(page.Locator("#token-needed")).ToContainTextAsync("/?token=<token>");
            await Expect(page.Locator("#no-channels")).ToBeHiddenAsync();
            await Expect(page.Locator("#poll-error")).ToBeHiddenAsync();
            var requestsBefore = Volatile.Read(ref apiRequests);

            await page.Clock.RunForAsync(60_000);

            await Expect(page.Locator("#connection")).ToHaveTextAsync("token needed");
            Assert.Equal(requestsBefore, Volatile.Read(ref apiRequests));
            Assert.Equal(0, Volatile.Read(ref sockets));

            await page.FillAsync("#token-form input[name=token]", "s3cret");
            await page.ClickAsync("#token-form button[type=submit]");

            await Expect(page.Locator("#connection")).ToHaveTextAsync("open");
            await Expect(page.Locator("#channels tr[data-channel='tok.orders']")).ToBeVisibleAsync();
            await Expect(page.Locator("#token-needed")).ToBeHiddenAsync();
        });
    }

    [Fact]
    public async Task Dashboard_WrongToken_SaysTheTokenWasRefused()
    {
        await using var server = await LoopbackBrummer.StartAsync(token: "s3cret");
        await browser.RunPageAsync(async page =>
        {
            var sockets = 0;
            page.WebSocket += (_, _) => Interlocked.Increment(ref sockets);

            await page.GotoAsync(new Uri(server.BaseAddress, "/?token=wrong").ToString());

            await Expect(page.Locator("#connection")).ToHaveTextAsync("token needed");
            await Expect(page.Locator("#token-needed")).ToContainTextAsync("refused the token");
            await Expect(page.Locator("#no-channels")).ToBeHiddenAsync();
            Assert.Equal(0, Volatile.Read(ref sockets));
        });
    }

    private static async Task<LayoutReport[]> LayoutAsync(IPage page, string selector) =>
        JsonSerializer.Deserialize<LayoutReport[]>(await page.EvaluateAsync<string>(LayoutScript, selector), JsonSerializerOptions.Web)!;

    /// <summary>One element's rendering, as <see cref="LayoutScript"/> reports it.</summary>
    private sealed record LayoutReport(string Text, int[] LineStarts, bool Cut, string Title);
}
