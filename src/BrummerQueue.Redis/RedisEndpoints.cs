using System.Globalization;
using System.Net;
using StackExchange.Redis;

namespace BrummerQueue.Redis;

/// <summary>How the store names its Redis in replies, logs and the banner: <c>host:port</c>, comma-separated; never a password.</summary>
internal static class RedisEndpoints
{
    public static string Format(IEnumerable<EndPoint> endpoints) => string.Join(", ", endpoints.Select(Format));

    public static string Format(EndPoint? endpoint) => endpoint switch
    {
        null => "(unknown)",
        DnsEndPoint dns => string.Create(CultureInfo.InvariantCulture, $"{dns.Host}:{dns.Port}"),
        _ => endpoint.ToString() ?? "(unknown)",
    };
}
