using CsCheck;
using Microsoft.Extensions.Time.Testing;

namespace BrummerQueue.Core.Tests.Model;

/// <summary>
/// Random sequences of send / receive / peek / subscribe / read / unsubscribe / advance-time / sweep, requests and
/// replies (<see cref="RequestDriver"/>), and
/// receives and reads held back and put back later (as a face does when it cannot deliver a reply), run
/// against the engine and against <see cref="QueueModel"/>; every result and Stats must agree. Leased receives (held and put
/// back too), acks by the owner or another, owners ending and leases timing out (redelivery, dead letters) take part.
/// Small capacity, buffer sizes and byte cap make drops, evictions and queue_full common.
/// </summary>
public sealed class ModelBasedTests
{
    private const int Capacity = 4;
    private const long MaxBytes = 40;
    private static readonly string[] s_channels = ["a", "b.x", "b.y.z"];
    private static readonly string[] s_patterns = ["*", "b.*", "b.>", ">", "*.x", "a.>"];
    private static readonly long?[] s_ttls = [null, 0, 1, 3];
    private static readonly string[] s_payloads = ["1", "\"ab\"", "[1,2,3]", "{\"k\":\"value\"}"];
    private static readonly int[] s_advances = [0, 400, 1000, 2500];
    private static readonly string[] s_owners = ["owner-0", "owner-1"];
    private const int MaxDeliveries = 2;

    private static readonly Gen<QueueOperation> s_operation = Gen.Frequency(
        (6, Gen.Select(Gen.Int[0, 2], Gen.Int[0, 3], Gen.Int[0, 3], (c, t, p) => new QueueOperation(QueueOperationKind.Send, c, t, p, false))),
        (3, Gen.Select(Gen.Int[0, 2], Gen.Int[1, 4], Gen.Bool, (c, l, peek) => new QueueOperation(QueueOperationKind.Receive, c, l, 0, peek))),
        (2, Gen.Select(Gen.Int[0, 2], Gen.Int[1, 3], Gen.Int[0, 5], Gen.Bool, (c, size, since, replay) => new QueueOperation(QueueOperationKind.Subscribe, c, size, since, replay))),
        (3, Gen.Select(Gen.Int[0, 7], Gen.Int[1, 4], (s, l) => new QueueOperation(QueueOperationKind.Read, 0, s, l, false))),
        (1, Gen.Int[0, 7].Select(s => new QueueOperation(QueueOperationKind.Unsubscribe, 0, s, 0, false))),
        (2, Gen.Int[0, 3].Select(a => new QueueOperation(QueueOperationKind.Advance, 0, a, 0, false))),
        (1, Gen.Const(new QueueOperation(QueueOperationKind.Sweep, 0, 0, 0, false))),
        (1, Gen.Const(new QueueOperation(QueueOperationKind.Stats, 0, 0, 0, false))),
        (2, Gen.Select(Gen.Int[0, 2], Gen.Int[1, 4], (c, l) => new QueueOperation(QueueOperationKind.TakeHeld, c, l, 0, false))),
        (1, Gen.Select(Gen.Int[0, 7], Gen.Int[1, 4], (s, l) => new QueueOperation(QueueOperationKind.ReadHeld, 0, s, l, false))),
        (2, Gen.Int[0, 7].Select(h => new QueueOperation(QueueOperationKind.PutBack, 0, h, 0, false))),
        (2, Gen.Select(Gen.Int[0, 2], Gen.Int[0, 1], Gen.Int[0, 3], (c, t, p) => new QueueOperation(QueueOperationKind.Request, c, t, p, false))),
        (2, Gen.Select(Gen.Int[0, 7], Gen.Int[0, 3], (r, p) => new QueueOperation(QueueOperationKind.Reply, 0, r, p, false))),
        (1, Gen.Select(Gen.Int[0, 7], Gen.Bool, (r, wait) => new QueueOperation(QueueOperationKind.EndRequest, 0, r, 0, wait))),
        (1, Gen.Select(Gen.Int[0, 5], Gen.Int[1, 3], (p, size) => new QueueOperation(QueueOperationKind.SubscribePattern, 0, p, size, false))),
        (3, Gen.Select(Gen.Int[0, 2], Gen.Int[1, 3], Gen.Int[0, 3], Gen.Bool, (c, l, o, h) => new QueueOperation(QueueOperationKind.Lease, c, l, o, h))),
        (3, Gen.Select(Gen.Int[0, 15], Gen.Int[0, 1], (i, o) => new QueueOperation(QueueOperationKind.Ack, 0, i, o, false))),
        (1, Gen.Int[0, 1].Select(o => new QueueOperation(QueueOperationKind.EndOwner, 0, o, 0, false))));

    [Fact]
    public void RandomOperationSequences_EngineAgreesWithModel()
    {
        s_operation.Array[1, 80].Sample(Run, iter: 400, print: ops => string.Join("; ", ops.Select(o => o.ToString())));
    }

    private static void Run(QueueOperation[] operations)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 1, 31, 12, 0, 0, TimeSpan.Zero));
        using var queue = MessageQueue.CreateInMemory(
            new QueueOptions { ChannelCapacity = Capacity, MaxTotalBytes = MaxBytes, SweepInterval = TimeSpan.FromDays(1), SubscriptionIdleTimeout = TimeSpan.FromDays(1), MaxDeliveries = MaxDeliveries },
            time);
        var model = new QueueModel(Capacity, MaxBytes) { NowMs = time.GetUtcNow().ToUnixTimeMilliseconds(), MaxDeliveries = MaxDeliveries };

        // Every lease taken: the engine's id and the model's, for acks (of live, ended and other owners' leases alike).
        var leaseLog = new List<(string Channel, string EngineId, long ModelId)>();
        var subscriptions = new List<(Subscription Engine, ModelSubscription Model)>();
        var requests = new RequestDriver(queue, model);

        // Receives whose result a client did not get yet: each is put back by a later PutBack operation, or never.
        var held = new List<(ReceiveResult Engine, Func<(int Restored, int Expired, int Dropped)> ModelPutBack)>();

        foreach (var op in operations)
        {
            var channel = s_channels[op.Channel];
            switch (op.Kind)
            {
                case QueueOperationKind.Send:
                    var payload = JsonPayload.Parse(s_payloads[op.B]);
                    var expected = model.Send(channel, (int)(s_ttls[op.A] ?? 3600), payload.Length);
                    long? actual;
                    try
                    {
                        actual = queue.Send(channel, new MessageDraft(Payload: payload, TtlSeconds: s_ttls[op.A])).Message.Seq;
                    }
                    catch (QueueException e) when (e.Code == QueueErrorCodes.QueueFull)
                    {
                        actual = null;
                    }

                    Assert.Equal(expected, actual);
                    break;
                case QueueOperationKind.Receive:
                    var got = new List<QueueMessage>();
                    queue.Receive(channel, op.A, op.Flag, got);
                    Assert.Equal(model.Receive(channel, op.A, op.Flag), got.Select(m => m.Seq));
                    break;
                case QueueOperationKind.Subscribe:
                    long? since = op.Flag ? op.B : null;
                    var engineSubscription = queue.Subscribe(channel, new SubscribeOptions { BufferSize = op.A, SinceSeq = since });
                    var modelSubscription = model.Subscribe(channel, op.A, since);
                    Assert.Equal(modelSubscription.Recovered, engineSubscription.Recovered);
                    subscriptions.Add((engineSubscription, modelSubscription));
                    break;
                case QueueOperationKind.Read when subscriptions.Count > 0:
                    var (engineSub, modelSub) = subscriptions[op.A % subscriptions.Count];
                    var (modelMessages, dropped) = model.ReadMessages(modelSub, op.B);
                    if (modelSub.Closed)
                    {
                        var error = Assert.Throws<QueueException>(() => queue.ReceiveAsync(new ReceiveRequest { SubscriptionId = engineSub.Id, Limit = op.B }).AsTask().GetAwaiter().GetResult());
                        Assert.Equal(QueueErrorCodes.NotFound, error.Code);
                        break;
                    }

                    var read = queue.ReceiveAsync(new ReceiveRequest { SubscriptionId = engineSub.Id, Limit = op.B }).AsTask().GetAwaiter().GetResult();
                    Assert.Equal(modelMessages.Select(m => (m.Channel, m.Seq)), read.Messages.Select(m => (m.Channel, m.Seq)));
                    Assert.Equal(dropped, read.Dropped);
                    break;
                case QueueOperationKind.Unsubscribe when subscriptions.Count > 0:
                    var pair = subscriptions[op.A % subscriptions.Count];
                    Assert.Equal(QueueModel.Unsubscribe(pair.Model), queue.Unsubscribe(pair.Engine.Id));
                    break;
                case QueueOperationKind.Advance:
                    time.Advance(TimeSpan.FromMilliseconds(s_advances[op.A]));
                    model.NowMs += s_advances[op.A];
                    model.EndDueLeases();
                    break;
                case QueueOperationKind.Sweep:
                    // How many expired messages a pass itself removes depends on when they were last looked at,
                    // which no client can observe; the removed channels and the Stats that follow must agree.
                    Assert.Equal(model.Sweep(), queue.Sweep().ChannelsRemoved);
                    break;
                case QueueOperationKind.Stats:
                    AssertStatsAgree(queue, model);
                    break;
                case QueueOperationKind.TakeHeld:
                    var (origin, taken) = model.Take(channel, op.A);
                    var takenResult = queue.ReceiveAsync(new ReceiveRequest { Channel = channel, Limit = op.A }).AsTask().GetAwaiter().GetResult();
                    Assert.Equal(taken.Select(m => m.Seq), takenResult.Messages.Select(m => m.Seq));
                    held.Add((takenResult, () => origin is null ? (0, 0, 0) : model.PutBack(channel, origin, taken)));
                    break;
                case QueueOperationKind.ReadHeld when subscriptions.Count > 0:
                    var (heldEngineSub, heldModelSub) = subscriptions[op.A % subscriptions.Count];
                    if (heldModelSub.Closed)
                    {
                        break;
                    }

                    var (readMessages, readDropped) = model.ReadMessages(heldModelSub, op.B);
                    var readResult = queue.ReceiveAsync(new ReceiveRequest { SubscriptionId = heldEngineSub.Id, Limit = op.B }).AsTask().GetAwaiter().GetResult();
                    Assert.Equal(readMessages.Select(m => m.Seq), readResult.Messages.Select(m => m.Seq));
                    Assert.Equal(readDropped, readResult.Dropped);
                    held.Add((readResult, () => heldModelSub.PutBack(readMessages, readDropped, model.NowMs)));
                    break;
                case QueueOperationKind.Request:
                    requests.Request(channel, op.A, JsonPayload.Parse(s_payloads[op.B]));
                    break;
                case QueueOperationKind.Reply:
                    requests.Reply(op.A, s_payloads[op.B]);
                    break;
                case QueueOperationKind.EndRequest:
                    requests.End(op.A, op.Flag);
                    break;
                case QueueOperationKind.SubscribePattern:
                    subscriptions.Add((queue.Subscribe(s_patterns[op.A], new SubscribeOptions { BufferSize = op.B }), model.SubscribePattern(s_patterns[op.A], op.B)));
                    break;
                case QueueOperationKind.PutBack when held.Count > 0:
                    var (heldResult, modelPutBack) = held[op.A % held.Count];
                    held.RemoveAt(op.A % held.Count);
                    var (restored, expiredBack, droppedBack) = modelPutBack();
                    Assert.Equal(new PutBackResult(restored, expiredBack, droppedBack), queue.PutBack(heldResult));
                    break;
                case QueueOperationKind.Lease:
                    var owner = s_owners[op.B % 2];
                    var leaseMs = op.B < 2 ? 1000 : 2000;
                    var modelLeases = model.Lease(channel, op.A, leaseMs, owner);
                    var leased = queue.ReceiveAsync(new ReceiveRequest { Channel = channel, Limit = op.A, AckTimeoutSeconds = leaseMs / 1000, Owner = owner }).AsTask().GetAwaiter().GetResult();
                    Assert.Equal(modelLeases.Select(l => (l.Message.Seq, l.Message.Deliveries)), leased.Messages.Select(m => (m.Seq, m.DeliveryCount)));
                    leaseLog.AddRange(leased.Messages.Zip(modelLeases, (m, l) => (channel, m.Id.ToString("D"), l.Message.Id)));
                    if (op.Flag)
                    {
                        held.Add((leased, () => model.Unlease(modelLeases)));
                    }

                    break;
                case QueueOperationKind.Ack when leaseLog.Count > 0:
                    var (ackChannel, engineId, modelId) = leaseLog[op.A % leaseLog.Count];
                    var ackOwner = s_owners[op.B];
                    var ackExpected = model.Ack(ackChannel, modelId, ackOwner);
                    Assert.Equal(ackExpected ? 1 : 0, queue.Ack(ackChannel, [engineId], ackOwner).Acked);
                    break;
                case QueueOperationKind.EndOwner:
                    model.EndLeasesOf(s_owners[op.A]);
                    queue.UnsubscribeOwner(s_owners[op.A]);
                    break;
            }
        }

        AssertStatsAgree(queue, model);
    }

    private static void AssertStatsAgree(IMessageQueue queue, QueueModel model)
    {
        var expected = model.Stats();
        var stats = queue.GetStats();
        Assert.Equal(expected.Messages, stats.TotalMessages);
        Assert.Equal(expected.Bytes, stats.TotalBytes);
        Assert.Equal(expected.Sent, stats.MessagesSent);
        Assert.Equal(expected.Consumed, stats.MessagesConsumed);
        Assert.Equal(expected.Expired, stats.MessagesExpired);
        Assert.Equal(expected.Dropped, stats.MessagesDropped);
        Assert.Equal(expected.Delivered, stats.MessagesDelivered);
        Assert.Equal(model.LeaseTotals(), stats.Leases);
        Assert.Equal(expected.Subscriptions, stats.Subscriptions.Count);
        Assert.Equal(expected.Subscriptions, stats.TotalSubscriptions);
        Assert.Equal(expected.Channels.Count, stats.TotalChannels);
        Assert.Equal(expected.Channels.OrderBy(kv => kv.Key, StringComparer.Ordinal), stats.Channels.Select(kv => KeyValuePair.Create(kv.Key, kv.Value with { Epoch = QueueModel.NoEpoch })));
        var listed = queue.ListChannels();
        Assert.Equal(model.ListChannels(), listed.Select(c => c with { Epoch = QueueModel.NoEpoch }));
        Assert.All(listed, c => Assert.Equal(stats.Channels[c.Name].Epoch, c.Epoch));
    }
}
