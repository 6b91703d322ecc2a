using BrummerQueue.Core;
using BrummerQueue.Core.Tests.Contract;

namespace BrummerQueue.Redis.Tests;

/// <summary>The engine contract tests, unchanged, against the Redis store on a real redis-server (a fresh key prefix per test).</summary>
public sealed class RedisMessageQueueTests(RedisServerFixture redis) : MessageQueueContractTests
{
    private readonly string _prefix = RedisServerFixture.FreshPrefix();

    protected override IMessageQueue CreateQueue(QueueOptions options, TimeProvider time)
    {
        redis.RequireServer();
        return RedisStore.Create(redis.Connection, options, time, _prefix);
    }
}
