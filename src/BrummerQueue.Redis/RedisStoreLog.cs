using Microsoft.Extensions.Logging;

namespace BrummerQueue.Redis;

/// <summary>The Redis store's log lines (docs/scale-out.md "Failure behaviour"): what a store_unavailable reply leaves out goes here.</summary>
internal static partial class RedisStoreLog
{
    [LoggerMessage(EventId = RedisLogEvents.ConnectionFailed, Level = LogLevel.Warning, Message = "Lost the connection to the Redis store at {Endpoint} ({Failure}); calls answer store_unavailable and /healthz 503 until the node has reconnected by itself")]
    public static partial void ConnectionFailed(ILogger logger, string endpoint, string failure, Exception? detail);

    [LoggerMessage(EventId = RedisLogEvents.ConnectionRestored, Level = LogLevel.Information, Message = "Reconnected to the Redis store at {Endpoint}")]
    public static partial void ConnectionRestored(ILogger logger, string endpoint);

    [LoggerMessage(EventId = RedisLogEvents.NotAnswering, Level = LogLevel.Warning, Message = "The Redis store at {Endpoint} did not answer a PING within {TimeoutMs} ms (the connection is open: a stopped or overloaded Redis?); /healthz answers 503 until it answers again")]
    public static partial void NotAnswering(ILogger logger, string endpoint, int timeoutMs);

    [LoggerMessage(EventId = RedisLogEvents.AnswersAgain, Level = LogLevel.Information, Message = "The Redis store at {Endpoint} answers again")]
    public static partial void AnswersAgain(ILogger logger, string endpoint);

    [LoggerMessage(EventId = RedisLogEvents.CallFailed, Level = LogLevel.Warning, Message = "A call to the Redis store failed: {Reply} ({Unlogged} more such failures since the last line were not logged)")]
    public static partial void CallFailed(ILogger logger, string reply, long unlogged, Exception detail);
}
