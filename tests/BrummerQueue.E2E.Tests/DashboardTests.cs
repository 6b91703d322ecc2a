using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using BrummerQueue.Core;
using BrummerQueue.Server.Tests;
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

    [Fact]
    public async Task Dashboard_ServerStopped_BadgeSaysUnreachableAndFiguresGreyOutAsStale()
    {
        TestServerHost? server = await LoopbackBrummer.StartAsync();
        try
        {
            server.Queue.Send("dash.down", new MessageDraft());
            await browser.RunPageAsync(async page =>
            {
                await page.GotoAsync(server.BaseAddress.ToString());
                await Expect(page.Locator("#connection")).ToHaveTextAsync("open");
                await Expect(page.Locator("[data-stat='messages_sent']")).ToHaveTextAsync("1");
                await Expect(page.Locator("#totals")).Not.ToHaveClassAsync(new Regex("stale"));

                await server.DisposeAsync();
                server = null;

                await Expect(page.Locator("#connection")).ToHaveTextAsync("unreachable");
                await Expect(page.Locator("#connection")).ToHaveAttributeAsync("data-status", "unreachable");
                foreach (var figures in new[] { "#totals", "#activity", "#channels-panel", "#subscriptions-panel" })
                {
                    await Expect(page.Locator(figures)).ToHaveClassAsync(new Regex(@"\bstale\b"));
                }

                // The last figures stay, marked as old, with the time the server stopped answering.
                await Expect(page.Locator("[data-stat='messages_sent']")).ToHaveTextAsync("1");
                await Expect(page.Locator("#poll-error")).ToContainTextAsync("no answer since");
                await Expect(page.Locator("#poll-error time")).ToHaveAttributeAsync("title", new Regex(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC$"));
                await BrowserFixture.SaveScreenshotAsync(page, "dashboard-server-stopped");
            });
        }
        finally
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Dashboard_HealthSaysStoreUnavailable_BadgeNamesTheStoreAndItsReasonNotTheServer()
    {
        await using var server = await LoopbackBrummer.StartAsync();
        server.Queue.Send("dash.store", new MessageDraft());
        await browser.RunPageAsync(async page =>
        {
            await page.GotoAsync(server.BaseAddress.ToString());
            await Expect(page.Locator("#connection")).ToHaveTextAsync("open");

            // What a Redis node's /healthz answers while Redis is lost (docs/scale-out.md); the server itself still answers.
            const string Reason = "the Redis store at 127.0.0.1:6380 is not connected; the node is reconnecting";
            await page.RouteAsync("**/healthz", route => route.FulfillAsync(new RouteFulfillOptions
            {
                Status = 503,
                ContentType = "application/json",
                Body = $$"""{"status":"store_unavailable","reason":"{{Reason}}"}""",
            }));

            await Expect(page.Locator("#connection")).ToHaveTextAsync("store unavailable");
            await Expect(page.Locator("#connection")).ToHaveAttributeAsync("data-status", "store");
            await Expect(page.Locator("#connection")).ToHaveAttributeAsync("title", new Regex(Regex.Escape(Reason)));
            await Expect(page.Locator("#poll-error")).ToContainTextAsync("store unavailable since");
            await Expect(page.Locator("#poll-error")).ToContainTextAsync(Reason);
            await Expect(page.Locator("#totals")).ToHaveClassAsync(new Regex(@"\bstale\b"));

            await page.UnrouteAsync("**/healthz");
            await Expect(page.Locator("#connection")).ToHaveTextAsync("open");
            await Expect(page.Locator("#poll-error")).ToBeHiddenAsync();
        });
    }

    [Fact]
    public async Task Dashboard_ServerRestartedOnTheSamePort_TailDrawsADividerBetweenTheTwoServersMessages()
    {
        TestServerHost? first = await LoopbackBrummer.StartAsync();
        var port = first.BaseAddress.Port;
        TestServerHost? second = null;
        try
        {
            await browser.RunPageAsync(async page =>
            {
                first.Queue.Send("dash.restart", new MessageDraft("old", JsonPayload.Parse("""{"from":"first"}""")));
                await page.GotoAsync(first.BaseAddress.ToString());
                await page.Locator("#channels tr[data-channel='dash.restart']").ClickAsync();
                await Expect(page.Locator("#tail li[data-seq='1'] .payload")).ToContainTextAsync("first");

                await first.DisposeAsync();
                first = null;
                await Expect(page.Locator("#connection")).ToHaveTextAsync("unreachable");

                second = await LoopbackBrummer.StartAsync(port);

                // The socket's back-off grows while the server is down (up to 10 s between attempts).
                await Expect(page.Locator("#connection")).ToHaveTextAsync("open", new() { Timeout = 30_000 });
                await Expect(page.Locator("#tail li.divider")).ToHaveTextAsync("server restarted, earlier messages are gone");
                await Expect(page.Locator("#tail-info")).ToHaveTextAsync("live");
                second.Queue.Send("dash.restart", new MessageDraft("new", JsonPayload.Parse("""{"from":"second"}""")));

                // Newest first: the new server's seq 1, the divider, the old server's seq 1.
                var items = page.Locator("#tail li");
                await Expect(items).ToHaveCountAsync(3);
                await Expect(items.Nth(0)).ToContainTextAsync("second");
                await Expect(items.Nth(1)).ToHaveClassAsync("divider");
                await Expect(items.Nth(2)).ToContainTextAsync("first");
                await Expect(page.Locator("#totals")).Not.ToHaveClassAsync(new Regex("stale"));
                await BrowserFixture.SaveScreenshotAsync(page, "dashboard-server-restarted");
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
    public async Task Dashboard_MessagesSentDeliveredAndConsumed_ChartsOfTotalsAndTheSelectedChannelHavePoints()
    {
        await using var server = await LoopbackBrummer.StartAsync();
        server.Queue.Send("dash.rate", new MessageDraft());
        server.Queue.Subscribe("dash.rate");
        await browser.RunPageAsync(async page =>
        {
            await page.SetViewportSizeAsync(1280, 900);
            await page.GotoAsync(server.BaseAddress.ToString());
            await page.Locator("#channels tr[data-channel='dash.rate']").ClickAsync();
            await Expect(page.Locator("#rate-channel")).ToBeVisibleAsync();

            // The poll that showed the channel took the baseline; these come after it.
            for (var i = 0; i < 5; i++)
            {
                server.Queue.Send("dash.rate", new MessageDraft(Payload: JsonPayload.Parse(i.ToString(CultureInfo.InvariantCulture))));
            }

            await server.Queue.ReceiveAsync(new ReceiveRequest { Channel = "dash.rate", Limit = 3 }, TestContext.Current.CancellationToken);

            foreach (var chart in new[] { "#rate-total", "#rate-channel" })
            {
                foreach (var series in new[] { "sent", "delivered", "consumed" })
                {
                    await page.WaitForFunctionAsync(
                        "([chart, series]) => Number(document.querySelector(`${chart} polyline[data-series='${series}']`)?.dataset.peak) > 0",
                        new[] { chart, series },
                        new() { Timeout = 10_000 });
                }

                var points = await page.Locator($"{chart} polyline[data-series='sent']").GetAttributeAsync("points");
                var xs = points!.Split(' ').Select(p => double.Parse(p.Split(',')[0], CultureInfo.InvariantCulture)).ToList();
                Assert.True(xs.Count >= 1, $"{chart} has no points");
                Assert.All(xs, x => Assert.InRange(x, 0, 600));
            }

            await Expect(page.Locator("#rate-total .legend [data-series='sent']")).ToContainTextAsync("sent");
            await Expect(page.Locator("#rate-total .chart-scale")).ToHaveTextAsync(new Regex(@"^\d[\d.,]*/s$"));
            await BrowserFixture.SaveScreenshotAsync(page, "dashboard-charts");
        });
    }

    [Fact]
    public async Task Dashboard_TimesPlaceholdersAndSubscriptions_LocalTimeWithUtcOnHoverExamplesAndLastRead()
    {
        await using var server = await LoopbackBrummer.StartAsync();
        var sent = server.Queue.Send("dash.time", new MessageDraft("tick", JsonPayload.Parse("1"))).Message;
        server.Queue.Subscribe("dash.idle", new SubscribeOptions { Owner = "mcp:left-without-goodbye" });
        var india = TimeSpan.FromHours(5.5);
        await browser.RunPageAsync(
            async page =>
            {
                await page.SetViewportSizeAsync(1280, 900);
                await page.GotoAsync(server.BaseAddress.ToString());
                await page.Locator("#channels tr[data-channel='dash.time']").ClickAsync();

                // The tail's time is local (UTC+05:30 here), the tooltip is the server's UTC time.
                var time = page.Locator("#tail li[data-seq='1'] .time time");
                await Expect(time).ToHaveTextAsync(sent.Timestamp.ToOffset(india).ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture));
                await Expect(time).ToHaveAttributeAsync("title", sent.Timestamp.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture) + " UTC");

                // Placeholders read as examples or defaults, never as values.
                await Expect(page.Locator("input[name=channel]")).ToHaveAttributeAsync("placeholder", "e.g. events");
                await Expect(page.Locator("input[name=type]")).ToHaveAttributeAsync("placeholder", "default: message");
                await Expect(page.Locator("textarea[name=payload]")).ToHaveAttributeAsync("placeholder", new Regex("^e\\.g\\. "));
                await Expect(page.Locator("input[name=ttl]")).ToHaveAttributeAsync("placeholder", "default: 3600");

                // The never-read subscription: owned by an MCP session, last read when made, ended by the idle limit
                // 10 minutes later; the tail's own subscription is read by its WebSocket all the time.
                var idle = page.Locator("#subscriptions tr[data-channel='dash.idle']");
                await Expect(idle.Locator("td").Nth(1)).ToHaveTextAsync("MCP session");
                var lastRead = idle.Locator("td.last-read time");
                var made = DateTimeOffset.Parse((await lastRead.GetAttributeAsync("datetime"))!, CultureInfo.InvariantCulture);
                await Expect(lastRead).ToHaveTextAsync(made.ToOffset(india).ToString("HH:mm:ss", CultureInfo.InvariantCulture));
                await Expect(lastRead).ToHaveAttributeAsync("title", new Regex(@" UTC$"));
                var ends = idle.Locator("td.ends time");
                var endsAt = DateTimeOffset.Parse((await ends.GetAttributeAsync("datetime"))!, CultureInfo.InvariantCulture);
                Assert.Equal(TimeSpan.FromMinutes(10), endsAt - made);
                await Expect(idle.Locator("td.ends")).ToContainTextAsync("in ");
                var tail = page.Locator("#subscriptions tr[data-channel='dash.time']");
                await Expect(tail.Locator("td").Nth(1)).ToHaveTextAsync("WebSocket");
                await Expect(tail.Locator("td.ends")).ToHaveTextAsync("being read now");

                // Two minutes on (the page's clock), nobody has read it: it is marked unread; the tail's is not.
                await page.Clock.SetFixedTimeAsync(DateTime.UtcNow.AddMinutes(2));
                await Expect(idle).ToHaveClassAsync(new Regex(@"\bunread\b"));
                await Expect(idle.Locator("td.last-read")).ToContainTextAsync(new Regex(@"\b2m( \d+s)? ago"));
                await Expect(tail).Not.ToHaveClassAsync(new Regex(@"\bunread\b"));
                await BrowserFixture.SaveScreenshotAsync(page, "dashboard-times-and-subscriptions");
            },
            new BrowserNewContextOptions { TimezoneId = "Asia/Kolkata", Locale = "en-GB" });
    }

    private static async Task<LayoutReport[]> LayoutAsync(IPage page, string selector) =>
        JsonSerializer.Deserialize<LayoutReport[]>(await page.EvaluateAsync<string>(LayoutScript, selector), JsonSerializerOptions.Web)!;

    /// <summary>One element's rendering, as <see cref="LayoutScript"/> reports it.</summary>
    private sealed record LayoutReport(string Text, int[] LineStarts, bool Cut, string Title);
}
