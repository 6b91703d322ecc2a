using System.Globalization;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using BrummerQueue.Server.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace BrummerQueue.Server.Tests.Limits;

/// <summary>Gives a test host its own meter and reads <c>brummerq_limit_hits_total</c> from its <c>/metrics</c>.</summary>
internal static class LimitMetrics
{
    /// <summary>A host configuration with a meter of its own: exporters pick meters by name across the process.</summary>
    public static void OwnMeter(WebApplicationBuilder builder) =>
        builder.Services.AddSingleton(new MetricsSettings { MeterName = "BrummerQueue.Test." + Guid.NewGuid().ToString("N") });

    /// <summary>The value of <c>brummerq_limit_hits_total{limit="<paramref name="limit"/>"}</c>, failing when the series is missing.</summary>
    public static async Task<long> HitsAsync(TestServerHost host, string limit, string? token = null)
    {
        using var client = host.CreateHttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(host.BaseAddress, "/metrics"));
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var match = Regex.Match(text, $$"""(?m)^brummerq_limit_hits_total\{[^}]*limit="{{Regex.Escape(limit)}}"[^}]*\} (\d+)""");
        Assert.True(match.Success, $"no brummerq_limit_hits_total{{limit=\"{limit}\"}} in /metrics:\n{text}");
        return long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }
}
