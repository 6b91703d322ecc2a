using System.Net;
using System.Net.Http.Headers;

namespace BrummerQueue.Server.Tests.Dashboard;

public sealed class DashboardEndpointsTests
{
    [Fact]
    public async Task Root_Get_ServesDashboardSameOriginOnly()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var client = host.CreateHttpClient();

        using var response = await client.GetAsync(new Uri("/", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("frame-ancestors 'none'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        var html = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains("<script type=\"module\" src=\"/dashboard/dashboard.js\"></script>", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DashboardScript_Get_ImportsTheBrowserClient()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var client = host.CreateHttpClient();

        using var response = await client.GetAsync(new Uri("/dashboard/dashboard.js", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
        var script = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains("from '/__brummer_ws__/client.js'", script, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChartScript_Get_ServedSameOriginAndImportedByTheDashboard()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var client = host.CreateHttpClient();

        using var response = await client.GetAsync(new Uri("/dashboard/chart.js", UriKind.Relative), TestContext.Current.CancellationToken);
        var dashboard = await client.GetStringAsync(new Uri("/dashboard/dashboard.js", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("frame-ancestors 'none'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        var script = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains("export function drawRateChart", script, StringComparison.Ordinal);
        Assert.Contains("from '/dashboard/chart.js'", dashboard, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientModule_GetFromOtherLocalhostPort_ServedWithCors()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var client = host.CreateHttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/__brummer_ws__/client.js");
        request.Headers.Add("Origin", "http://localhost:5173");

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("*", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        var script = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains("export function connect(", script, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientModule_GetWithItsETag_AnswersNotModified()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var client = host.CreateHttpClient();
        using var first = await client.GetAsync(new Uri("/__brummer_ws__/client.js", UriKind.Relative), TestContext.Current.CancellationToken);
        var etag = first.Headers.ETag;
        Assert.NotNull(etag);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/__brummer_ws__/client.js");
        request.Headers.IfNoneMatch.Add(new EntityTagHeaderValue(etag.Tag));

        using var second = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
    }

    [Theory]
    [InlineData("/dashboard/missing.js")]
    [InlineData("/dashboard/client.js")]
    public async Task Asset_UnknownPath_NotFound(string path)
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var client = host.CreateHttpClient();

        using var response = await client.GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
