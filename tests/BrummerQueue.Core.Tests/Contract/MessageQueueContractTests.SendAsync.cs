namespace BrummerQueue.Core.Tests.Contract;

/// <summary>
/// <see cref="IMessageQueue.SendAsync"/>, the send every face uses: the same rules, refusals and result as
/// <see cref="IMessageQueue.Send"/>, with refusals in the returned task.
/// </summary>
public abstract partial class MessageQueueContractTests
{
    [Fact]
    public async Task SendAsync_Message_StoredAndCopiedAsSendWould()
    {
        var queue = NewQueue();
        var subscription = queue.Subscribe("c");
        var stored = new List<QueueMessage>();
        queue.MessageStored += stored.Add;

        var result = await queue.SendAsync("c", new MessageDraft("note", JsonPayload.Parse("""{"n":1}"""), 60), Ct);

        Assert.Equal(1, result.Message.Seq);
        Assert.Equal(1, result.DeliveredTo);
        Assert.Equal("c", result.Message.Channel);
        Assert.Equal("note", result.Message.Type);
        Assert.Equal("""{"n":1}""", result.Message.Payload.ToString());
        Assert.Equal(Time.GetUtcNow().AddSeconds(60), result.Message.ExpiresAt);
        Assert.Equal(result.Message.Id, Assert.Single(stored).Id);
        Assert.True(subscription.TryRead(out var copy));
        Assert.Equal(result.Message.Id, copy.Id);
        var taken = Assert.Single(Take(queue, "c"));
        Assert.Equal(result.Message.Id, taken.Id);
        Assert.Equal(1, queue.GetStats().MessagesSent);
    }

    [Fact]
    public async Task SendAsync_AwaitedOneAfterAnother_SeqsFollowWithSend()
    {
        var queue = NewQueue();
        Assert.Equal(1, Send(queue, "c", "1").Seq);
        Assert.Equal(2, (await queue.SendAsync("c", new MessageDraft(Payload: JsonPayload.Parse("2")), Ct)).Message.Seq);
        Assert.Equal(3, Send(queue, "c", "3").Seq);
        Assert.Equal(4, (await queue.SendAsync("c", new MessageDraft(Payload: JsonPayload.Parse("4")), Ct)).Message.Seq);
        Assert.Equal(["1", "2", "3", "4"], Take(queue, "c").Select(m => m.Payload.ToString()));
    }

    [Fact]
    public async Task SendAsync_ManyAtOnce_EachStoredOnceWithItsOwnSeq()
    {
        var queue = NewQueue();
        var sends = Enumerable.Range(1, 50).Select(i => queue.SendAsync("c", new MessageDraft(Payload: JsonPayload.Parse(i.ToString(System.Globalization.CultureInfo.InvariantCulture))), Ct).AsTask()).ToList();
        var results = await Task.WhenAll(sends).WaitAsync(TimeSpan.FromSeconds(30), Ct);

        Assert.Equal(Enumerable.Range(1, 50).Select(i => (long)i), results.Select(r => r.Message.Seq).Order());
        var taken = Take(queue, "c");
        Assert.Equal(Enumerable.Range(1, 50).Select(i => (long)i), Seqs(taken));
        Assert.Equal(results.Select(r => r.Message.Id).Order(), taken.Select(m => m.Id).Order());
    }

    [Fact]
    public async Task SendAsync_ManyAtOnceToASmallChannel_KeepsTheNewestCountsTheRestDroppedAndCopiesAll()
    {
        var queue = NewQueue(new QueueOptions { ChannelCapacity = 3 });
        var subscription = queue.Subscribe("c", new SubscribeOptions { BufferSize = 100 });
        var payload = JsonPayload.Parse("\"12345678\"");
        var sends = Enumerable.Range(1, 40).Select(_ => queue.SendAsync("c", new MessageDraft(Payload: payload), Ct).AsTask()).ToList();
        var results = await Task.WhenAll(sends).WaitAsync(TimeSpan.FromSeconds(30), Ct);

        Assert.Equal(Enumerable.Range(1, 40).Select(i => (long)i), results.Select(r => r.Message.Seq).Order());
        Assert.All(results, r => Assert.Equal(1, r.DeliveredTo));
        var stats = queue.GetStats();
        Assert.Equal((40, 37, 3, 30), (stats.MessagesSent, stats.MessagesDropped, stats.TotalMessages, stats.TotalBytes));
        Assert.Equal(37, stats.Channels["c"].Dropped);
        Assert.Equal(Enumerable.Range(1, 40).Select(i => (long)i), Seqs((await queue.ReceiveAsync(new ReceiveRequest { SubscriptionId = subscription.Id, Limit = 100 }, Ct)).Messages));
        Assert.Equal([38L, 39L, 40L], Seqs(Take(queue, "c")));
    }

    [Fact]
    public async Task SendAsync_ManyAtOnceBeyondTheByteCap_StoresWhatFitsRefusesTheRestAndCountsOnlyTheStored()
    {
        var queue = NewQueue(new QueueOptions { MaxTotalBytes = 100 });
        var payload = JsonPayload.Parse("\"12345678\"");
        var sends = Enumerable.Range(1, 30).Select(_ => queue.SendAsync("c", new MessageDraft(Payload: payload), Ct).AsTask()).ToList();
        await Task.WhenAll(sends.Select(s => s.ContinueWith(static _ => { }, TaskScheduler.Default))).WaitAsync(TimeSpan.FromSeconds(30), Ct);

        var stored = sends.Where(s => s.IsCompletedSuccessfully).Select(s => s.Result.Message.Seq).Order().ToList();
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), stored);
        Assert.All(sends.Where(s => !s.IsCompletedSuccessfully), s => Assert.Equal(QueueErrorCodes.QueueFull, Assert.IsType<QueueException>(s.Exception!.InnerException).Code));
        var stats = queue.GetStats();
        Assert.Equal((10, 100, 10), (stats.MessagesSent, stats.TotalBytes, stats.TotalMessages));
        Assert.Equal(stored, Seqs(Take(queue, "c")));
    }

    [Fact]
    public async Task SendAsync_ManyAtOnceOfMixedSizesBeyondTheByteCap_EachStoredOrRefusedAsIfSentAlone()
    {
        var queue = NewQueue(new QueueOptions { MaxTotalBytes = 100 });
        var big = JsonPayload.Parse("\"" + new string('x', 58) + "\"");
        var small = JsonPayload.Parse("\"12345678\"");
        var payloads = new[] { big, big, small, small, small, small };
        var sends = payloads.Select(p => queue.SendAsync("c", new MessageDraft(Payload: p), Ct).AsTask()).ToList();
        await Task.WhenAll(sends.Select(s => s.ContinueWith(static _ => { }, TaskScheduler.Default))).WaitAsync(TimeSpan.FromSeconds(30), Ct);

        // 60 fits; 60 more would not; each 10 after it fits, up to 100.
        Assert.Equal([true, false, true, true, true, true], sends.Select(s => s.IsCompletedSuccessfully));
        Assert.Equal(QueueErrorCodes.QueueFull, Assert.IsType<QueueException>(sends[1].Exception!.InnerException).Code);
        Assert.Equal(100, queue.GetStats().TotalBytes);
        Assert.Equal([60, 10, 10, 10, 10], Take(queue, "c").Select(m => m.Payload.Length));
    }

    [Fact]
    public async Task SendAsync_InvalidChannel_FaultsTheTaskNamingTheRuleAndStoresNothing()
    {
        var queue = NewQueue();
        var sending = queue.SendAsync("has space", default, Ct);
        var error = await AssertRefusedAsync(QueueErrorCodes.InvalidArgument, "channel", "1-128 characters from A-Z a-z 0-9 . _ - : /", async () => await sending);
        Assert.Null(error.Limit);
        Assert.Empty(queue.ListChannels());
    }

    [Fact]
    public async Task SendAsync_BeyondByteCap_RefusedQueueFullRaisesLimitHitAndNothingLost()
    {
        var queue = NewQueue(new QueueOptions { MaxTotalBytes = 20 });
        var hits = new List<QueueException>();
        queue.LimitHit += hits.Add;
        var payload = JsonPayload.Parse("\"12345678\"");
        await queue.SendAsync("a", new MessageDraft(Payload: payload), Ct);
        await queue.SendAsync("a", new MessageDraft(Payload: payload), Ct);

        var error = await AssertRefusedAsync(QueueErrorCodes.QueueFull, null, "queue_full", async () => await queue.SendAsync("b", new MessageDraft(Payload: payload), Ct));

        Assert.Equal(nameof(QueueOptions.MaxTotalBytes), error.Limit);
        Assert.Same(error, Assert.Single(hits));
        Assert.Equal([1L, 2L], Seqs(Take(queue, "a")));
        Assert.DoesNotContain(queue.ListChannels(), c => c.Name == "b");
    }

    [Fact]
    public async Task SendAsync_ByteCapHeldByExpiredMessagesElsewhere_PrunesThemAndStores()
    {
        var queue = NewQueue(new QueueOptions { MaxTotalBytes = 20 });
        var payload = JsonPayload.Parse("\"12345678\"");
        Send(queue, "old", "\"12345678\"", ttl: 1);
        Send(queue, "a", "\"12345678\"");
        Time.Advance(TimeSpan.FromSeconds(2));

        var result = await queue.SendAsync("b", new MessageDraft(Payload: payload), Ct);

        Assert.Equal(1, result.Message.Seq);
        Assert.Equal(1, queue.GetStats().MessagesExpired);
        Assert.Equal(20, queue.GetStats().TotalBytes);
    }

    [Fact]
    public async Task SendAsync_BeyondChannelLimit_RefusedNamingTheSetting()
    {
        var queue = NewQueue(new QueueOptions { MaxChannels = 1 });
        await queue.SendAsync("a", default, Ct);
        var error = await AssertRefusedAsync(QueueErrorCodes.QueueFull, "channel", "holds 1 channels", async () => await queue.SendAsync("b", default, Ct));
        Assert.Equal(nameof(QueueOptions.MaxChannels), error.Limit);
    }

    [Fact]
    public async Task SendAsync_CancelledBeforeTheCall_CancelledAndStoresNothing()
    {
        var queue = NewQueue();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var sending = queue.SendAsync("c", default, cancelled.Token);
        Assert.True(sending.IsCanceled);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await sending);
        Assert.Empty(queue.ListChannels());
    }

    [Fact]
    public async Task SendAsync_ToAWaitingBlockingReceive_WakesIt()
    {
        var queue = NewQueue();
        var pending = queue.ReceiveAsync(new ReceiveRequest { Channel = "c", Blocking = true }, Ct).AsTask();
        Assert.False(pending.IsCompleted);
        await queue.SendAsync("c", new MessageDraft(Payload: JsonPayload.Parse("\"hello\"")), Ct);
        var result = await pending.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal("\"hello\"", Assert.Single(result.Messages).Payload.ToString());
    }
}
