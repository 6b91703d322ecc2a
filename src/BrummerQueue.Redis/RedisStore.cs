using BrummerQueue.Core;
using StackExchange.Redis;

namespace BrummerQueue.Redis;

/// <summary>Creates message queues kept in Redis (SPEC.md §6): any number of nodes given the same Redis and prefix share one queue.</summary>
public static class RedisStore
{
    /// <summary>The key prefix nodes use unless told otherwise.</summary>
    public const string DefaultKeyPrefix = "brummerq:";

    /// <summary>
    /// Connects to Redis and creates the store. The connection reconnects by itself after a loss; while it is down every
    /// call throws <see cref="QueueException"/> with <see cref="QueueErrorCodes.StoreUnavailable"/>.
    /// </summary>
    /// <param name="configuration">A StackExchange.Redis configuration string, e.g. <c>localhost:6379</c>.</param>
    /// <param name="options">Limits; null means the defaults. Validated here. Every node of one queue should be given the same.</param>
    /// <param name="timeProvider">Clock and timers; null means <see cref="TimeProvider.System"/>.</param>
    /// <param name="keyPrefix">Prefix of every key and notification channel; nodes with the same prefix share a queue.</param>
    /// <param name="requireConnection">
    /// True: throw when Redis cannot be reached now. False: return the store anyway, still connecting (a host checks
    /// <see cref="ConnectionFailure"/> when it starts, and reports it as a start failure).
    /// </param>
    /// <exception cref="RedisConnectionException">Redis cannot be reached now and <paramref name="requireConnection"/> is true.</exception>
    public static IMessageQueue Connect(string configuration, QueueOptions? options = null, TimeProvider? timeProvider = null, string keyPrefix = DefaultKeyPrefix, bool requireConnection = true)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        options ??= new QueueOptions();
        options.Validate();
        var config = ConfigurationOptions.Parse(configuration);

        // After the first connection the client reconnects by itself, whatever was configured.
        config.AbortOnConnectFail = requireConnection;
        var redis = ConnectionMultiplexer.Connect(config);
        return new RedisMessageQueue(redis, ownsConnection: true, keyPrefix, options, timeProvider ?? TimeProvider.System);
    }

    /// <summary>Creates the store on a connection the caller owns (and disposes after the store).</summary>
    public static IMessageQueue Create(IConnectionMultiplexer redis, QueueOptions? options = null, TimeProvider? timeProvider = null, string keyPrefix = DefaultKeyPrefix)
    {
        ArgumentNullException.ThrowIfNull(redis);
        options ??= new QueueOptions();
        options.Validate();
        return new RedisMessageQueue(redis, ownsConnection: false, keyPrefix, options, timeProvider ?? TimeProvider.System);
    }

    /// <summary>
    /// Null when <paramref name="queue"/> is connected (or not a Redis store); otherwise why not, naming the endpoints,
    /// e.g. <c>no connection to 127.0.0.1:6379 (UnableToConnect: Connection refused)</c>.
    /// </summary>
    public static string? ConnectionFailure(IMessageQueue queue) => queue is RedisMessageQueue redis ? redis.ConnectionFailure : null;

    /// <summary>True when <paramref name="queue"/> is a Redis store whose connection is down (for a health check); false otherwise.</summary>
    public static bool IsDisconnected(IMessageQueue queue) => queue is RedisMessageQueue redis && !redis.IsConnected;
}
