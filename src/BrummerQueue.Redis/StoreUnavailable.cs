using BrummerQueue.Core;
using StackExchange.Redis;

namespace BrummerQueue.Redis;

/// <summary>Turns the client's connection failures into the <c>store_unavailable</c> refusal every face shows.</summary>
internal static class StoreUnavailable
{
    public static bool Is(Exception e) => e is RedisConnectionException or RedisTimeoutException
        || (e is RedisServerException server && (server.Message.StartsWith("LOADING", StringComparison.Ordinal) || server.Message.StartsWith("READONLY", StringComparison.Ordinal)));

    public static QueueException From(Exception e) => new(
        QueueErrorCodes.StoreUnavailable,
        null,
        $"store_unavailable: the Redis store cannot be reached ({e.GetType().Name}: {FirstLine(e.Message)}); nothing was done. The node reconnects by itself: retry shortly");

    private static string FirstLine(string text)
    {
        var end = text.IndexOfAny(['\r', '\n']);
        return end < 0 ? text : text[..end];
    }
}
