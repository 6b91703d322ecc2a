using System.Diagnostics;
using BrummerQueue.Core;

namespace BrummerQueue.Redis.Tests;

/// <summary>
/// The Redis store when its Redis stops answering or goes away (docs/scale-out.md "Failure behaviour"; trial findings
/// 2, 5, 6, 7, 8): what a refused call says, what the health check says, what is logged. Each test has its own
/// redis-server, which it stops with SIGSTOP or kills and starts again; every wait is bounded.
/// </summary>
public sealed class RedisFailureTests : IAsyncDisposable
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(60);
    private readonly RedisServerFixture _redis = new();
    private readonly ListLogger _log = new();
    private IMessageQueue? _queue;
    private bool _stopped;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Send_RedisStoppedWithSigstop_SaysTheOutcomeIsUnknownAndTheMessageIsStoredOnceRedisResumes()
    {
        var queue = await StartAsync("syncTimeout=1500");
        queue.Send("c", new MessageDraft(Payload: JsonPayload.Parse("1")));

        await FreezeAsync();
        var error = Assert.Throws<QueueException>(() => queue.Send("c", new MessageDraft(Payload: JsonPayload.Parse("2"))));
        await ThawAsync();

        Assert.Equal(QueueErrorCodes.StoreUnavailable, error.Code);
        Assert.Equal(
            $"store_unavailable: the Redis store at 127.0.0.1:{_redis.Port} did not answer within 1500 ms; the outcome is unknown (a send may have been stored, a receive's messages taken): check before retrying",
            error.Message);

        // The send reached Redis before it stopped answering: once it runs again, the message is there (a blind retry would store it twice).
        await UntilAsync(() => queue.ListChannels().Single().LastSeq == 2);
        var messages = new List<QueueMessage>();
        queue.Receive("c", 10, peek: true, messages);
        Assert.Equal(["1", "2"], messages.Select(m => m.Payload.ToString()));

        // The client's whole diagnostic is in the node's log only.
        Assert.Contains(_log.Lines, l => l.EventId == 4404 && l.Text.Contains("Timeout performing", StringComparison.Ordinal));
    }

    [Fact]
    public async Task HealthProblem_RedisStoppedWithSigstop_ReportedAndLoggedUntilItAnswersAgain()
    {
        var queue = await StartAsync("syncTimeout=5000");
        Assert.Null(RedisStore.HealthProblem(queue));

        await FreezeAsync();
        await UntilAsync(() => RedisStore.HealthProblem(queue) is not null);
        Assert.Equal($"the Redis store at 127.0.0.1:{_redis.Port} did not answer a PING within 2000 ms; the node keeps asking", RedisStore.HealthProblem(queue));
        Assert.Contains(_log.Lines, l => l.EventId == 4402 && l.Text.Contains($"127.0.0.1:{_redis.Port}", StringComparison.Ordinal));

        await ThawAsync();
        await UntilAsync(() => RedisStore.HealthProblem(queue) is null);
        Assert.Contains(_log.Lines, l => l.EventId == 4403 && l.Text.Contains($"127.0.0.1:{_redis.Port}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Send_ConnectionKnownToBeDown_FailsAtOnceSayingNothingWasDoneAndTheLossAndRestoreAreLogged()
    {
        // A command timeout far longer than the bound below: a call that waited for it could not pass.
        var queue = await StartAsync("syncTimeout=30000,asyncTimeout=30000");
        await _redis.StopAsync();
        await UntilAsync(() => RedisStore.HealthProblem(queue)?.Contains("is not connected", StringComparison.Ordinal) == true);

        var clock = Stopwatch.StartNew();
        var error = Assert.Throws<QueueException>(() => queue.Send("c", default));
        clock.Stop();

        Assert.Equal(QueueErrorCodes.StoreUnavailable, error.Code);
        Assert.StartsWith($"store_unavailable: the Redis store at 127.0.0.1:{_redis.Port} is not connected", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("; nothing was done. The node reconnects by itself: retry shortly", error.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"the refusal took {clock.Elapsed}, as long as a command timeout");
        // The client raises its connection events on threads of its own: the line comes, not necessarily before the refusal.
        await UntilAsync(() => _log.Lines.Any(l => l.EventId == 4400));
        Assert.Contains(_log.Lines, l => l.EventId == 4400 && l.Level == Microsoft.Extensions.Logging.LogLevel.Warning && l.Text.Contains($"127.0.0.1:{_redis.Port}", StringComparison.Ordinal));

        await _redis.StartAsync();
        await UntilAsync(() => RedisStore.HealthProblem(queue) is null);
        await UntilAsync(() => _log.Lines.Any(l => l.EventId == 4401));
        Assert.Equal(1, queue.Send("c", default).Message.Seq);
        Assert.Single(_log.Lines, l => l.EventId == 4400);
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopped)
        {
            await ThawAsync();
        }

        _queue?.Dispose();
        await _redis.DisposeAsync();
    }

    private async Task<IMessageQueue> StartAsync(string options)
    {
        await _redis.InitializeAsync();
        _redis.RequireServer();
        _queue = RedisStore.Connect($"127.0.0.1:{_redis.Port},connectTimeout=2000,{options}", new QueueOptions(), TimeProvider.System, RedisServerFixture.FreshPrefix(), logger: _log);
        return _queue;
    }

    private async Task FreezeAsync()
    {
        await _redis.SignalAsync("STOP");
        _stopped = true;
    }

    private async Task ThawAsync()
    {
        await _redis.SignalAsync("CONT");
        _stopped = false;
    }

    /// <summary>Asks <paramref name="condition"/> until it holds; bounded by <see cref="s_wait"/>, one try per 50 ms.</summary>
    private static async Task UntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + s_wait;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"not true within {s_wait}");
            await Task.Delay(50, Ct);
        }
    }
}
