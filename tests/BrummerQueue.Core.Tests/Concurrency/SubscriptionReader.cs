namespace BrummerQueue.Core.Tests.Concurrency;

/// <summary>Reads one subscription on its own task, checking seq order and that drops account for every gap.</summary>
internal sealed class SubscriptionReader(Subscription subscription) : IDisposable
{
    private readonly List<QueueMessage> _batch = new(64);
    private readonly CancellationTokenSource _stop = new();
    private long _lastSeq;

    public string Channel => subscription.Channel;

    public int BufferSize => subscription.BufferSize;

    public long Received { get; private set; }

    public long Dropped { get; private set; }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        try
        {
            while (await subscription.WaitToReadAsync(linked.Token))
            {
                ReadOnce();
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    public void Stop() => _stop.Cancel();

    /// <summary>After all sends: reads what is left and checks received + dropped = every seq the channel assigned.</summary>
    public void DrainAndCheck(long channelLastSeq)
    {
        ReadOnce();
        Assert.Equal(channelLastSeq, Received + Dropped);
    }

    public void Dispose() => _stop.Dispose();

    private void ReadOnce()
    {
        _batch.Clear();
        var dropped = subscription.ReadBatch(64, _batch);
        Dropped += dropped;
        foreach (var message in _batch)
        {
            Assert.True(message.Seq > _lastSeq, $"seq {message.Seq} after {_lastSeq}");
            _lastSeq = message.Seq;
            Received++;
        }
    }
}
