using System.Net.Sockets;
using BrummerQueue.Core;
using StackExchange.Redis;

namespace BrummerQueue.Redis;

/// <summary>
/// Turns the client's failures into the <c>store_unavailable</c> refusal every face shows (docs/protocol.md,
/// docs/scale-out.md "Failure behaviour"): a short text naming the Redis endpoint and the kind of fault, never the
/// client's diagnostic (that goes to the node's log). It says whether anything may have been done: a request that never
/// reached Redis did nothing; one that was sent and got no answer (a timeout, or the connection lost after sending) may
/// have been carried out, so the client is told to check before retrying instead of sending a second copy.
/// </summary>
internal static class StoreUnavailable
{
    public static bool Is(Exception e) => e is RedisConnectionException or RedisTimeoutException
        || (e is RedisServerException server && (server.Message.StartsWith("LOADING", StringComparison.Ordinal) || server.Message.StartsWith("READONLY", StringComparison.Ordinal)));

    /// <summary>The refusal for <paramref name="e"/>, a failure of a call to the Redis at <paramref name="endpoints"/> whose command timeout is <paramref name="timeoutMs"/>.</summary>
    public static QueueException From(Exception e, string endpoints, int timeoutMs) => new(QueueErrorCodes.StoreUnavailable, null, e switch
    {
        RedisTimeoutException { Commandstatus: CommandStatus.WaitingToBeSent or CommandStatus.WaitingInBacklog } =>
            $"store_unavailable: the Redis store at {endpoints} could not be given the request within {timeoutMs} ms; nothing was done. The node reconnects by itself: retry shortly",
        RedisTimeoutException =>
            $"store_unavailable: the Redis store at {endpoints} did not answer within {timeoutMs} ms; {Unknown}",
        RedisConnectionException { CommandStatus: CommandStatus.Sent } connection =>
            $"store_unavailable: the connection to the Redis store at {endpoints} was lost after the request was sent ({Kind(connection.FailureType, connection)}); {Unknown}",
        RedisConnectionException connection => NotConnectedText(endpoints, Kind(connection.FailureType, connection)),
        _ when e.Message.StartsWith("LOADING", StringComparison.Ordinal) =>
            $"store_unavailable: the Redis store at {endpoints} is still loading its data after a restart; nothing was done: retry shortly",
        _ => $"store_unavailable: the Redis store at {endpoints} is a read-only replica (a failover under way?); nothing was done: retry shortly",
    });

    /// <summary>The refusal of a call made while the node knows it has no connection (it fails at once, without sending).</summary>
    public static QueueException NotConnected(string endpoints, string? failure) =>
        new(QueueErrorCodes.StoreUnavailable, null, NotConnectedText(endpoints, failure));

    /// <summary>A short name of a connection fault, with the socket's own reason where there is one: <c>unable to connect: Connection refused</c>.</summary>
    public static string Kind(ConnectionFailureType type, Exception? e)
    {
        // "No connection is available" wraps the failure that explains it (e.g. UnableToConnect): name that one.
        for (var inner = e?.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is RedisConnectionException cause)
            {
                type = cause.FailureType;
            }
        }

        var kind = type switch
        {
            ConnectionFailureType.UnableToConnect => "unable to connect",
            ConnectionFailureType.UnableToResolvePhysicalConnection => "no connection",
            ConnectionFailureType.SocketClosed => "connection closed",
            ConnectionFailureType.SocketFailure => "connection failed",
            ConnectionFailureType.AuthenticationFailure => "authentication failed",
            ConnectionFailureType.ConnectionDisposed => "connection disposed",
            ConnectionFailureType.Loading => "loading its data",
            _ => type.ToString(),
        };
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException socket)
            {
                return $"{kind}: {socket.Message}";
            }
        }

        return kind;
    }

    private const string Unknown = "the outcome is unknown (a send may have been stored, a receive's messages taken): check before retrying";

    private static string NotConnectedText(string endpoints, string? failure) =>
        $"store_unavailable: the Redis store at {endpoints} is not connected" + (failure is null ? string.Empty : $" ({failure})") +
        "; nothing was done. The node reconnects by itself: retry shortly";
}
