using System.Text;

namespace BrummerQueue.Core.Tests.Contract;

public abstract partial class MessageQueueContractTests
{
    [Theory]
    [InlineData("a")]
    [InlineData("app.events")]
    [InlineData("A-Z_a-z.0-9:x/y")]
    public void Send_ValidChannelName_StoresMessage(string channel)
    {
        var queue = NewQueue();
        var message = Send(queue, channel);
        Assert.Equal(channel, message.Channel);
    }

    [Fact]
    public void Send_ChannelNameOf128Characters_IsAccepted()
    {
        var queue = NewQueue();
        Assert.Equal(1, Send(queue, new string('x', 128)).Seq);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("emoji-\u00e9")]
    [InlineData("semi;colon")]
    public void Send_InvalidChannelName_IsRefusedNamingTheRule(string channel)
    {
        var queue = NewQueue();
        AssertRefused(QueueErrorCodes.InvalidArgument, "channel", "channel", () => Send(queue, channel));
        var error = Assert.Throws<QueueException>(() => Send(queue, channel));
        Assert.Contains("1-128 characters from A-Z a-z 0-9 . _ - : /", error.Message, StringComparison.Ordinal);
        Assert.Empty(queue.ListChannels());
    }

    [Fact]
    public void Send_ChannelNameOf129Characters_IsRefused()
    {
        var queue = NewQueue();
        AssertRefused(QueueErrorCodes.InvalidArgument, "channel", "must be 1-128 characters", () => Send(queue, new string('x', 129)));
    }

    [Fact]
    public void Send_Defaults_TypeMessagePayloadNullTtl3600()
    {
        var queue = NewQueue();
        var message = queue.Send("c", default).Message;
        Assert.Equal("message", message.Type);
        Assert.Equal("null", message.Payload.ToString());
        Assert.Equal(3600, message.TtlSeconds);
        Assert.Equal(Time.GetUtcNow(), message.Timestamp);
        Assert.Equal(Time.GetUtcNow().AddSeconds(3600), message.ExpiresAt);
    }

    [Fact]
    public void Send_TtlZero_NeverExpires()
    {
        var queue = NewQueue();
        var message = Send(queue, "c", ttl: 0);
        Assert.Null(message.ExpiresAt);
        Time.Advance(TimeSpan.FromDays(30));
        Assert.Single(Take(queue, "c"));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(604_801)]
    public void Send_TtlOutOfRange_IsRefusedNamingTheRule(long ttl)
    {
        var queue = NewQueue();
        var error = AssertRefused(QueueErrorCodes.InvalidArgument, "ttl", "ttl must be an integer between 0 and 604800", () => Send(queue, "c", ttl: ttl));
        Assert.Equal("ttl must be an integer between 0 and 604800", error.Message);
    }

    [Fact]
    public void Send_TtlAtMaximum_IsAccepted()
    {
        var queue = NewQueue();
        Assert.Equal(604_800, Send(queue, "c", ttl: 604_800).TtlSeconds);
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    public void Send_TypeEmptyOrDefault_FollowsRule(string? type)
    {
        var queue = NewQueue();
        if (type is null)
        {
            Assert.Equal("message", Send(queue, "c", type: null).Type);
        }
        else
        {
            AssertRefused(QueueErrorCodes.InvalidArgument, "type", "type must be 1-128 characters", () => Send(queue, "c", type: type));
        }
    }

    [Fact]
    public void Send_TypeOf129Characters_IsRefused()
    {
        var queue = NewQueue();
        AssertRefused(QueueErrorCodes.InvalidArgument, "type", "type must be 1-128 characters", () => Send(queue, "c", type: new string('t', 129)));
        Assert.Equal("custom", Send(queue, "c", type: "custom").Type);
    }

    [Theory]
    [InlineData("{\"a\":[1,2,{\"b\":null}]}")]
    [InlineData("[1,\"two\",false]")]
    [InlineData("\"text\"")]
    [InlineData("42.5")]
    [InlineData("true")]
    [InlineData("null")]
    public void Send_AnyJsonValue_IsStoredUnchanged(string json)
    {
        var queue = NewQueue();
        Send(queue, "c", json);
        Assert.Equal(json, Take(queue, "c")[0].Payload.ToString());
    }

    [Theory]
    [InlineData("{")]
    [InlineData("1 2")]
    [InlineData("")]
    [InlineData("{'single':1}")]
    public void JsonPayloadParse_NotOneJsonValue_IsRefused(string json)
    {
        AssertRefused(QueueErrorCodes.InvalidArgument, "payload", "payload must be a single valid JSON value", () => JsonPayload.Parse(json));
    }

    [Fact]
    public void Send_SeqStartsAtOnePerChannelAndIncreases()
    {
        var queue = NewQueue();
        Assert.Equal([1L, 2L, 3L], [Send(queue, "a").Seq, Send(queue, "a").Seq, Send(queue, "a").Seq]);
        Assert.Equal(1, Send(queue, "b").Seq);
        Assert.Equal(4, Send(queue, "a").Seq);
    }

    [Fact]
    public void Send_Ids_AreUniqueTimeOrderedUuidV7()
    {
        var queue = NewQueue();
        var ids = new List<Guid>();
        for (var i = 0; i < 2000; i++)
        {
            ids.Add(Send(queue, i % 2 == 0 ? "a" : "b").Id);
            if (i % 100 == 0)
            {
                Time.Advance(TimeSpan.FromMilliseconds(3));
            }
        }

        Assert.Equal(ids.Count, ids.Distinct().Count());
        var texts = ids.Select(id => id.ToString()).ToList();
        Assert.All(texts, t => Assert.Equal('7', t[14]));
        Assert.All(texts, t => Assert.Contains(t[19], "89ab"));
        Assert.Equal(texts.Order(StringComparer.Ordinal), texts);
        var ms = Convert.ToInt64(texts[0].Replace("-", "", StringComparison.Ordinal)[..12], 16);
        Assert.Equal(Time.GetUtcNow().ToUnixTimeMilliseconds() - 60, ms);
    }

    [Fact]
    public void Send_FullBacklog_EvictsOldestAndCountsDropped()
    {
        var queue = NewQueue(new QueueOptions { ChannelCapacity = 3 });
        for (var i = 1; i <= 5; i++)
        {
            Send(queue, "c", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        Assert.Equal([3L, 4L, 5L], Seqs(Take(queue, "c")));
        var stats = queue.GetStats();
        Assert.Equal(2, stats.MessagesDropped);
        Assert.Equal(2, stats.Channels["c"].Dropped);
        Assert.Equal(5, stats.MessagesSent);
    }

    [Fact]
    public void Send_BeyondByteCap_RefusedQueueFullAndNothingLost()
    {
        var queue = NewQueue(new QueueOptions { MaxTotalBytes = 30 });
        var payload = "\"" + new string('x', 8) + "\""; // 10 bytes
        Send(queue, "a", payload);
        Send(queue, "b", payload);
        Send(queue, "a", payload);
        var error = AssertRefused(QueueErrorCodes.QueueFull, null, "queue_full", () => Send(queue, "c", payload));
        Assert.Contains("30 bytes", error.Message, StringComparison.Ordinal);
        Assert.Equal(30, queue.GetStats().TotalBytes);
        Assert.Equal(3, queue.GetStats().TotalMessages);
        Assert.DoesNotContain(queue.ListChannels(), c => c.Name == "c");

        Assert.Equal(2, Take(queue, "a").Count);
        Assert.Equal(1, Send(queue, "c", payload).Seq);
        Assert.Equal(20, queue.GetStats().TotalBytes);
    }

    [Fact]
    public void Send_AtByteCapToAFullChannel_FitsWhenTheEvictionFreesEnough()
    {
        var queue = NewQueue(new QueueOptions { MaxTotalBytes = 20, ChannelCapacity = 2 });
        Send(queue, "c", "\"12345678\"");
        Send(queue, "c", "\"12345678\"");
        Assert.Equal(3, Send(queue, "c", "\"12345678\"").Seq);
        AssertRefused(QueueErrorCodes.QueueFull, null, "queue_full", () => Send(queue, "c", "\"123456789\""));
        AssertRefused(QueueErrorCodes.QueueFull, null, "queue_full", () => Send(queue, "other", "1"));
        Assert.Equal([2L, 3L], Seqs(Take(queue, "c", peek: true)));
        Assert.Equal(20, queue.GetStats().TotalBytes);
    }

    [Fact]
    public void Send_MessageTooLarge_RefusedNamingLimit()
    {
        var queue = NewQueue(new QueueOptions { MaxMessageBytes = 1000 });
        var big = JsonPayload.Parse(Encoding.UTF8.GetBytes("\"" + new string('x', 1000) + "\""));
        var error = Assert.Throws<QueueException>(() => queue.Send("c", new MessageDraft(Payload: big)));
        Assert.Equal(QueueErrorCodes.MessageTooLarge, error.Code);
        Assert.Equal("payload", error.Field);
        Assert.Contains("at most 1000 bytes", error.Message, StringComparison.Ordinal);
        Assert.Empty(queue.ListChannels());
    }

    [Fact]
    public void Send_BeyondChannelLimit_RefusedAndExistingChannelsStillWork()
    {
        var queue = NewQueue(new QueueOptions { MaxChannels = 2 });
        Send(queue, "a");
        Send(queue, "b");
        var error = AssertRefused(QueueErrorCodes.QueueFull, "channel", "holds 2 channels", () => Send(queue, "c"));
        Assert.Equal(nameof(QueueOptions.MaxChannels), error.Limit);
        Assert.Contains("--max-channels or BRUMMERQ_MAX_CHANNELS", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, Send(queue, "a").Seq);

        Take(queue, "b");
        queue.Sweep();
        Assert.Equal(1, Send(queue, "c").Seq);
    }

    [Fact]
    public void LimitHit_EachLimitRefusal_RaisedOnceWithTheSettingBeforeTheThrow()
    {
        var queue = NewQueue(new QueueOptions { MaxChannels = 1, MaxMessageBytes = 300, MaxTotalBytes = 20, MaxSubscriptionsPerOwner = 1 });
        var hits = new List<QueueException>();
        queue.LimitHit += hits.Add;
        Send(queue, "a", "\"12345678\"");
        queue.Subscribe("a", new SubscribeOptions { Owner = "o" });

        var thrown = new[]
        {
            Assert.Throws<QueueException>(() => Send(queue, "b")),
            Assert.Throws<QueueException>(() => Send(queue, "a", "\"" + new string('x', 400) + "\"")),
            Assert.Throws<QueueException>(() => Send(queue, "a", "\"" + new string('x', 20) + "\"")),
            Assert.Throws<QueueException>(() => queue.Subscribe("a", new SubscribeOptions { Owner = "o" })),
        };
        Assert.Throws<QueueException>(() => Send(queue, "a", type: new string('t', 200)));

        Assert.Equal(thrown, hits);
        Assert.Equal(
            [nameof(QueueOptions.MaxChannels), nameof(QueueOptions.MaxMessageBytes), nameof(QueueOptions.MaxTotalBytes), nameof(QueueOptions.MaxSubscriptionsPerOwner)],
            hits.Select(h => h.Limit));
        Assert.Equal(
            [QueueErrorCodes.QueueFull, QueueErrorCodes.MessageTooLarge, QueueErrorCodes.QueueFull, QueueErrorCodes.TooManySubscriptions],
            hits.Select(h => h.Code));
        Assert.All(hits, h => Assert.StartsWith(h.Code + ": ", h.Message, StringComparison.Ordinal));
        Assert.All(hits, h => Assert.EndsWith($"(limit {h.Limit}: raise it with {SettingNames.Flag(h.Limit!)} or {SettingNames.EnvironmentVariable(h.Limit!)})", h.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void Send_ReportsDeliveredToSubscriptionsOfThatChannelOnly()
    {
        var queue = NewQueue();
        queue.Subscribe("a");
        queue.Subscribe("a");
        queue.Subscribe("b");
        Assert.Equal(2, queue.Send("a", default).DeliveredTo);
        Assert.Equal(0, queue.Send("z", default).DeliveredTo);
    }

    [Fact]
    public void Send_RaisesMessageStoredWithTheStoredMessage()
    {
        var queue = NewQueue();
        var seen = new List<QueueMessage>();
        queue.MessageStored += seen.Add;
        var sent = Send(queue, "a", "1");
        Assert.Same(sent, Assert.Single(seen));
    }
}
