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
    /// <exception cref="RedisConnectionException">Redis cannot be reached at start (the host reports it and exits).</exception>
    public static IMessageQueue Connect(string configuration, QueueOptions? options = null, TimeProvider? timeProvider = null, string keyPrefix = DefaultKeyPrefix)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        options ??= new QueueOptions();
        options.Validate();
        var config = ConfigurationOptions.Parse(configuration);

        // Unreachable at start is a start failure (the host says so and exits 1); after that the client reconnects by itself.
        config.AbortOnConnectFail = true;
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

    /// <summary>True when <paramref name="queue"/> is a Redis store whose connection is down (for a health check); false otherwise.</summary>
    public static bool IsDisconnected(IMessageQueue queue) => queue is RedisMessageQueue redis && !redis.IsConnected;
}
