using BrummerQueue.Core;

namespace BrummerQueue.Redis.Tests;

/// <summary>
/// The Redis store's group commit (<see cref="SendBatcher"/>), with a recording stand-in for the send script so that each
/// batch's start and end are in the test's hands: what goes alone, what waits, how waiting sends are grouped.
/// </summary>
public sealed class SendBatcherTests : IDisposable
{
    private readonly List<(string Channel, List<SendCall> Batch, TaskCompletionSource Done)> _runs = [];
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _started = new(0);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _started.Dispose();

    [Fact]
    public void Enqueue_ChannelIdle_RunsAtOnceAlone()
    {
        var batcher = new SendBatcher(Run);
        var call = Call("c");

        batcher.Enqueue(call);

        var run = Assert.Single(Runs());
        Assert.Equal("c", run.Channel);
        Assert.Same(call, Assert.Single(run.Batch));
    }

    [Fact]
    public async Task Enqueue_WhileABatchIsInFlight_WaitingSendsGoTogetherInArrivalOrder()
    {
        var batcher = new SendBatcher(Run);
        batcher.Enqueue(Call("c"));
        var waiting = Enumerable.Range(0, 5).Select(_ => Call("c")).ToList();
        waiting.ForEach(batcher.Enqueue);
        Assert.Single(Runs());

        Runs()[0].Done.SetResult();
        await WaitForRunsAsync(2);

        Assert.Equal(waiting, Runs()[1].Batch);
    }

    [Fact]
    public void Enqueue_OtherChannelWhileOneIsInFlight_RunsAtOnce()
    {
        var batcher = new SendBatcher(Run);
        batcher.Enqueue(Call("a"));
        batcher.Enqueue(Call("b"));

        Assert.Equal(["a", "b"], Runs().Select(r => r.Channel));
    }

    [Fact]
    public async Task Enqueue_MoreWaitingThanABatchHolds_SplitIntoBatchesOfAtMostMaxMessagesInOrder()
    {
        var batcher = new SendBatcher(Run);
        batcher.Enqueue(Call("c"));
        var waiting = Enumerable.Range(0, SendBatcher.MaxMessages + 10).Select(_ => Call("c")).ToList();
        waiting.ForEach(batcher.Enqueue);

        Runs()[0].Done.SetResult();
        await WaitForRunsAsync(2);
        Runs()[1].Done.SetResult();
        await WaitForRunsAsync(3);

        Assert.Equal(waiting[..SendBatcher.MaxMessages], Runs()[1].Batch);
        Assert.Equal(waiting[SendBatcher.MaxMessages..], Runs()[2].Batch);
    }

    [Fact]
    public async Task Enqueue_WaitingPayloadsBeyondMaxBytes_NextBatchStopsBeforeTheByteLimit()
    {
        var batcher = new SendBatcher(Run);
        batcher.Enqueue(Call("c"));
        var large = JsonPayload.Parse("\"" + new string('x', (SendBatcher.MaxBytes / 2) - 2) + "\"");
        var waiting = Enumerable.Range(0, 3).Select(_ => Call("c", large)).ToList();
        waiting.ForEach(batcher.Enqueue);

        Runs()[0].Done.SetResult();
        await WaitForRunsAsync(2);
        Runs()[1].Done.SetResult();
        await WaitForRunsAsync(3);

        Assert.Equal(waiting[..2], Runs()[1].Batch);
        Assert.Equal(waiting[2..], Runs()[2].Batch);
    }

    [Fact]
    public async Task Enqueue_RunFails_EveryCallOfThatBatchFaultedAndTheNextBatchStillRuns()
    {
        var batcher = new SendBatcher(Run);
        var first = Call("c");
        batcher.Enqueue(first);
        var second = Call("c");
        batcher.Enqueue(second);

        Runs()[0].Done.SetException(new InvalidOperationException("lost"));
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => first.Completion.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.Equal("lost", error.Message);
        await WaitForRunsAsync(2);
        Assert.Same(second, Assert.Single(Runs()[1].Batch));
    }

    [Fact]
    public async Task Enqueue_AfterTheChannelRanEmpty_RunsAtOnceAgain()
    {
        var batcher = new SendBatcher(Run);
        batcher.Enqueue(Call("c"));
        Runs()[0].Done.SetResult();
        await Runs()[0].Done.Task;

        var later = Call("c");
        batcher.Enqueue(later);

        await WaitForRunsAsync(2);
        Assert.Same(later, Assert.Single(Runs()[1].Batch));
    }

    private static SendCall Call(string channel, JsonPayload payload = default) =>
        new(channel, Guid.CreateVersion7(), "message", payload, 60, 0, []);

    private Task Run(string channel, List<SendCall> batch)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            _runs.Add((channel, [.. batch], done));
        }

        _started.Release();

        return done.Task;
    }

    private List<(string Channel, List<SendCall> Batch, TaskCompletionSource Done)> Runs()
    {
        lock (_lock)
        {
            return [.. _runs];
        }
    }

    /// <summary>Waits until <paramref name="count"/> batches have started (the next one starts on the pool after the last ends).</summary>
    private async Task WaitForRunsAsync(int count)
    {
        while (Runs().Count < count)
        {
            Assert.True(await _started.WaitAsync(TimeSpan.FromSeconds(10), Ct), $"batch {count} did not start within 10 s");
        }
    }
}
