using Microsoft.Playwright;

namespace BrummerQueue.E2E.Tests;

/// <summary>
/// One headless Chromium per test class (Debian's <c>/usr/bin/chromium</c>, never a downloaded
/// browser). Where it is missing the tests skip with the reason, unless
/// <c>BRUMMERQ_REQUIRE_ALL_TESTS=1</c> (set by CI), where a missing browser fails them.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    /// <summary>A hostname that the browser resolves to 127.0.0.1 but that is not localhost: a foreign origin.</summary>
    public const string ForeignHost = "foreign.test";

    private const string DefaultChromium = "/usr/bin/chromium";

    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private string? _unavailable;

    public async ValueTask InitializeAsync()
    {
        var executable = Environment.GetEnvironmentVariable("BRUMMERQ_CHROMIUM") ?? DefaultChromium;
        if (!File.Exists(executable))
        {
            _unavailable = $"Chromium not found at {executable} (install Debian's chromium package or set BRUMMERQ_CHROMIUM)";
            return;
        }

        Assertions.SetDefaultExpectTimeout(10_000);
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = executable,
            Headless = true,
            Args =
            [
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
                $"--host-resolver-rules=MAP {ForeignHost} 127.0.0.1",
                // A plain-http navigation to a non-local name must not be upgraded to https.
                "--disable-features=HttpsUpgrades,HttpsFirstBalancedModeAutoEnable",
            ],
        });
    }

    /// <summary>
    /// Opens a fresh page (own context), runs <paramref name="test"/> on it, and on failure saves a
    /// screenshot under <c>TestResults/screenshots</c> next to the test assembly before rethrowing.
    /// Console output of the page goes to the test output. <paramref name="options"/> sets up the context
    /// (e.g. its time zone).
    /// </summary>
    public async Task RunPageAsync(Func<IPage, Task> test, BrowserNewContextOptions? options = null)
    {
        if (_browser is null)
        {
            var reason = _unavailable ?? "the browser did not start";
            if (Environment.GetEnvironmentVariable("BRUMMERQ_REQUIRE_ALL_TESTS") == "1")
            {
                Assert.Fail($"{reason}; BRUMMERQ_REQUIRE_ALL_TESTS=1 makes this a failure");
            }

            Assert.Skip(reason);
        }

        var output = TestContext.Current.TestOutputHelper;
        await using var context = await _browser.NewContextAsync(options);
        var page = await context.NewPageAsync();
        page.Console += (_, message) => output?.WriteLine($"[page {message.Type}] {message.Text}");
        page.PageError += (_, error) => output?.WriteLine($"[page error] {error}");
        try
        {
            await test(page);
        }
        catch (Exception)
        {
            var path = await SaveScreenshotAsync(page, TestContext.Current.Test?.TestDisplayName ?? "test");
            output?.WriteLine($"Screenshot of the failed page: {path}");
            throw;
        }
    }

    /// <summary>
    /// Saves a full-page screenshot as <c>TestResults/screenshots/{name}.png</c> next to the test assembly, for a
    /// person to look at (tests check elements and states, never pixels); returns its path.
    /// </summary>
    public static async Task<string> SaveScreenshotAsync(IPage page, string name)
    {
        var file = string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is '_' or '.' or '-' ? c : '_'));
        var path = Path.Combine(AppContext.BaseDirectory, "TestResults", "screenshots", $"{file}.png");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }
}
