using System.Net.Sockets;
using System.Text.Json;

namespace BrummerQueue.Server.Mcp;

/// <summary>Asks <c>GET /healthz</c> on a port whether a brummerq serves it.</summary>
internal static class PortProbe
{
    /// <summary>The base address to reach a server bound to <paramref name="host"/>:<paramref name="port"/> from this machine.</summary>
    public static Uri BaseAddress(string host, int port)
    {
        var reachable = host switch
        {
            "0.0.0.0" => "127.0.0.1",
            "::" or "[::]" => "[::1]",
            _ when host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[') => $"[{host}]",
            _ => host,
        };
        return new Uri($"http://{reachable}:{port}/");
    }

    /// <summary>
    /// Probes <paramref name="baseAddress"/>; the detail says what answered when it is not brummerq. For a brummerq,
    /// <c>Store</c> is the store its <c>/healthz</c> names (<c>memory</c> or <c>redis</c>; null from one that names none).
    /// </summary>
    public static async Task<(PortOccupant Occupant, string Detail, string? Store)> ProbeAsync(Uri baseAddress, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            using var response = await http.GetAsync(new Uri(baseAddress, Hosting.HealthEndpoint.Path), cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            try
            {
                using var document = JsonDocument.Parse(body);
                var root = document.RootElement;
                if (root.ValueKind == JsonValueKind.Object &&
                    root.TryGetProperty("server", out var server) &&
                    server.ValueKind == JsonValueKind.String &&
                    server.GetString() == BrummerMcpServer.Name)
                {
                    return (PortOccupant.Brummerq, "brummerq", root.TryGetProperty("store", out var store) && store.ValueKind == JsonValueKind.String ? store.GetString() : null);
                }
            }
            catch (JsonException)
            {
            }

            return (PortOccupant.Other, $"GET /healthz answered HTTP {(int)response.StatusCode} without identifying brummerq", null);
        }
        catch (HttpRequestException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
        {
            return (PortOccupant.Free, "nothing listens", null);
        }
        catch (HttpRequestException e)
        {
            return (PortOccupant.Other, "it does not speak HTTP like brummerq: " + e.Message, null);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (PortOccupant.Other, "it did not answer GET /healthz within 3 seconds", null);
        }
    }
}
