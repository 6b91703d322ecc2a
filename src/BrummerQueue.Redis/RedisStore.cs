using BrummerQueue.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace BrummerQueue.Redis;

/// <summary>Creates message queues kept in Redis (SPEC.md §6): any number of nodes given the same Redis and prefix share one queue.</summary>
public static class RedisStore
{
    /// <summary>The key prefix nodes use unless told otherwise.</summary>
    public const string DefaultKeyPrefix = "brummerq:";

    /// <summary>
    /// Connects to Redis and creates the store. The connection reconnects by itself after a loss; while it is down every
    /// call throws <see cref="QueueException"/> with <see cref="QueueErrorCodes.StoreUnavailable"/> at once (commands are
    /// not queued to wait for the reconnect: <see cref="BacklogPolicy.FailFast"/>).
    /// </summary>
    /// <param name="configuration">A StackExchange.Redis configuration string, e.g. <c>localhost:6379</c>.</param>
    /// <param name="options">Limits; null means the defaults. Validated here. Every node of one queue should be given the same.</param>
    /// <param name="timeProvider">Clock and timers; null means <see cref="TimeProvider.System"/>.</param>
    /// <param name="keyPrefix">Prefix of every key and notification channel; nodes with the same prefix share a queue.</param>
    /// <param name="requireConnection">
    /// True: throw when Redis cannot be reached now. False: return the store anyway, still connecting (a host checks
    /// <see cref="ConnectionFailure"/> when it starts, and reports it as a start failure).
    /// </param>
    /// <param name="logger">Where lost and restored connections, a Redis that stops answering, and the client's diagnostic of failed calls are logged; null logs nothing.</param>
    /// <exception cref="RedisConnectionException">Redis cannot be reached now and <paramref name="requireConnection"/> is true.</exception>
    public static IMessageQueue Connect(string configuration, QueueOptions? options = null, TimeProvider? timeProvider = null, string keyPrefix = DefaultKeyPrefix, bool requireConnection = true, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        options ??= new QueueOptions();
        options.Validate();
        var config = ConfigurationOptions.Parse(configuration);

        // After the first connection the client reconnects by itself, whatever was configured.
        config.AbortOnConnectFail = requireConnection;

        // A command made while there is no connection fails at once ("nothing was done") instead of waiting in the
        // client's backlog for the command timeout (docs/scale-out.md "Failure behaviour").
        config.BacklogPolicy = BacklogPolicy.FailFast;
        var redis = ConnectionMultiplexer.Connect(config);
        return new RedisMessageQueue(redis, ownsConnection: true, keyPrefix, options, timeProvider ?? TimeProvider.System, logger ?? NullLogger.Instance);
    }

    /// <summary>Creates the store on a connection the caller owns (and disposes after the store); <paramref name="logger"/> as for <see cref="Connect"/>.</summary>
    public static IMessageQueue Create(IConnectionMultiplexer redis, QueueOptions? options = null, TimeProvider? timeProvider = null, string keyPrefix = DefaultKeyPrefix, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(redis);
        options ??= new QueueOptions();
        options.Validate();
        return new RedisMessageQueue(redis, ownsConnection: false, keyPrefix, options, timeProvider ?? TimeProvider.System, logger ?? NullLogger.Instance);
    }

    /// <summary>The endpoints a configuration string names, as <c>host:port</c> (comma-separated), without its password or other options: for a banner.</summary>
    public static string Endpoints(string configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return RedisEndpoints.Format(ConfigurationOptions.Parse(configuration).EndPoints);
    }

    /// <summary>
    /// Null when <paramref name="queue"/> can use its Redis (or is not a Redis store); otherwise why not, for a health
    /// check: <c>the Redis store at 127.0.0.1:6379 is not connected (connection closed); the node is reconnecting</c>, or
    /// <c>the Redis store at 127.0.0.1:6379 did not answer a PING within 2000 ms; the node keeps asking</c> (connected, but
    /// stopped or overloaded; a PING is sent every second and the first one answered clears it).
    /// </summary>
    public static string? HealthProblem(IMessageQueue queue) => queue is RedisMessageQueue redis ? redis.HealthProblem : null;

    /// <summary>
    /// Null when <paramref name="queue"/> is connected (or not a Redis store); otherwise why not, naming the endpoints,
    /// e.g. <c>no connection to 127.0.0.1:6379 (unable to connect: Connection refused)</c>.
    /// </summary>
    public static string? ConnectionFailure(IMessageQueue queue) => queue is RedisMessageQueue redis ? redis.ConnectionFailure : null;

    /// <summary>True when <paramref name="queue"/> is a Redis store whose connection is down (for a health check); false otherwise.</summary>
    public static bool IsDisconnected(IMessageQueue queue) => queue is RedisMessageQueue redis && !redis.IsConnected;
}
