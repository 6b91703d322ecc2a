using System.Net.WebSockets;
using System.Text.Json;
using BrummerQueue.Core;

namespace BrummerQueue.Server.Tests.WebSockets;

public sealed class WebSocketEndpointTests
{
    [Fact]
    public async Task Connect_Always_SendsGreetingWithServerVersionClientAndInstance()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var (socket, greeting) = await TestSocket.ConnectAsync(host);
        await using var _ = socket;

        var data = greeting.GetProperty("data");
        Assert.Equal("brummerq", data.GetProperty("server").GetString());
        Assert.False(string.IsNullOrEmpty(data.GetProperty("version").GetString()));
        Assert.StartsWith("ws-", data.GetProperty("client_id").GetString(), StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(data.GetProperty("instance_id").GetString()));
        Assert.False(greeting.TryGetProperty("id", out var _));
    }

    [Fact]
    public async Task QueueMessage_WithId_AcksTheStoredMessage()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;

        var ack = await socket.RequestAsync("queue_message", "m1", new { channel = "orders", type = "created", payload = new { n = 1 }, ttl = 60 });

        Assert.Equal("ack", ack.GetProperty("type").GetString());
        var data = ack.GetProperty("data");
        Assert.Equal(1, data.GetProperty("seq").GetInt64());
        Assert.Equal("orders", data.GetProperty("channel").GetString());
        var stored = new List<QueueMessage>();
        host.Queue.Receive("orders", 10, peek: true, stored);
        var message = Assert.Single(stored);
        Assert.Equal(message.Id.ToString(), data.GetProperty("message_id").GetString());
        Assert.Equal("created", message.Type);
        Assert.Equal("""{"n":1}""", message.Payload.ToString());
        Assert.Equal(60, message.TtlSeconds);
    }

    [Fact]
    public async Task QueueMessage_SeedFrameWithoutId_IsStoredAndAckedWithoutId()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;

        // The seed's browser example, unchanged.
        await socket.SendAsync("""{"type":"queue_message","data":{"channel":"browser-events","type":"click","payload":{"x":1},"ttl":300}}""");
        var ack = await socket.ReceiveAsync("ack");

        Assert.False(ack.TryGetProperty("id", out _));
        var stored = new List<QueueMessage>();
        host.Queue.Receive("browser-events", 10, peek: false, stored);
        Assert.Equal("click", Assert.Single(stored).Type);
    }

    [Fact]
    public async Task QueueMessage_NumericId_IsEchoedAsNumber()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;

        await socket.SendAsync("""{"type":"ping","id":42}""");
        var pong = await socket.ReceiveAsync("pong");

        Assert.Equal(42, pong.GetProperty("id").GetInt32());
    }

    [Fact]
    public async Task Ping_WithId_AnswersPongWithId()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;

        var pong = await socket.RequestAsync("ping", "p1");

        Assert.Equal("pong", pong.GetProperty("type").GetString());
    }

    [Fact]
    public async Task QueueSubscribe_MessagesFromAnySource_ArePushedInSeqOrder()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var (subscriber, _) = await TestSocket.ConnectAsync(host);
        await using var __ = subscriber;
        var (sender, _) = await TestSocket.ConnectAsync(host);
        await using var ___ = sender;

        var subscribed = await subscriber.RequestAsync("queue_subscribe", "s1", new { channel = "feed" });
        Assert.Equal("subscribed", subscribed.GetProperty("type").GetString());
        var subscriptionId = subscribed.GetProperty("data").GetProperty("subscription_id").GetString();
        Assert.Equal("feed", subscribed.GetProperty("data").GetProperty("channel").GetString());

        for (var i = 0; i < 25; i++)
        {
            await sender.SendAsync(new { type = "queue_message", data = new { channel = "feed", payload = i } });
            host.Queue.Send("feed", new MessageDraft(Payload: JsonPayload.Parse((100 + i).ToString(System.Globalization.CultureInfo.InvariantCulture))));
        }

        for (var seq = 1; seq <= 50; seq++)
        {
            var push = await subscriber.ReceiveAsync("queue_message");
            var data = push.GetProperty("data");
            Assert.Equal(subscriptionId, data.GetProperty("subscription_id").GetString());
            Assert.Equal(seq, data.GetProperty("message").GetProperty("seq").GetInt64());
            Assert.False(data.TryGetProperty("dropped", out _));
            Assert.False(push.TryGetProperty("id", out _));
        }
    }

    [Fact]
    public async Task QueueSubscribe_OtherChannel_IsNotPushed()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;
        await socket.RequestAsync("queue_subscribe", "s1", new { channel = "mine" });

        host.Queue.Send("other", new MessageDraft(Payload: JsonPayload.Parse("\"not for me\"")));
        host.Queue.Send("mine", new MessageDraft(Payload: JsonPayload.Parse("\"for me\"")));

        var push = await socket.ReceiveAsync("queue_message");
        var message = push.GetProperty("data").GetProperty("message");
        Assert.Equal("mine", message.GetProperty("channel").GetString());
        Assert.Equal("for me", message.GetProperty("payload").GetString());
    }

    [Fact]
    public async Task QueueSubscribe_SinceSeq_PushesRetainedBacklogFirst()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        for (var i = 0; i < 3; i++)
        {
            host.Queue.Send("history", new MessageDraft());
        }

        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;
        await socket.RequestAsync("queue_subscribe", "s1", new { channel = "history", since_seq = 1, buffer_size = 10 });
        host.Queue.Send("history", new MessageDraft());

        foreach (var expected in new[] { 2, 3, 4 })
        {
            var push = await socket.ReceiveAsync("queue_message");
            Assert.Equal(expected, push.GetProperty("data").GetProperty("message").GetProperty("seq").GetInt64());
        }
    }

    [Fact]
    public async Task QueueUnsubscribe_Known_AnswersUnsubscribedAndStopsPushes()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;
        var subscribed = await socket.RequestAsync("queue_subscribe", "s1", new { channel = "c" });
        var subscriptionId = subscribed.GetProperty("data").GetProperty("subscription_id").GetString();

        var reply = await socket.RequestAsync("queue_unsubscribe", "u1", new { subscription_id = subscriptionId });
        host.Queue.Send("c", new MessageDraft());

        Assert.Equal("unsubscribed", reply.GetProperty("type").GetString());
        Assert.Equal(subscriptionId, reply.GetProperty("data").GetProperty("subscription_id").GetString());
        Assert.Equal(0, host.Queue.GetStats().TotalSubscriptions);

        // The next frame is the pong, not a push.
        var pong = await socket.RequestAsync("ping", "p1");
        Assert.Equal("pong", pong.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Subscription_EndedElsewhere_ClientGetsUnsubscribedWithoutId()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;
        var subscribed = await socket.RequestAsync("queue_subscribe", "s1", new { channel = "c" });
        var subscriptionId = subscribed.GetProperty("data").GetProperty("subscription_id").GetString()!;

        Assert.True(host.Queue.Unsubscribe(subscriptionId));
        var notice = await socket.ReceiveAsync("unsubscribed");

        Assert.False(notice.TryGetProperty("id", out _));
        Assert.Equal(subscriptionId, notice.GetProperty("data").GetProperty("subscription_id").GetString());
    }

    [Fact]
    public async Task QueueUnsubscribe_Unknown_AnswersNotFound()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;

        var reply = await socket.RequestAsync("queue_unsubscribe", "u1", new { subscription_id = "nope" });

        Assert.Equal("error", reply.GetProperty("type").GetString());
        Assert.Equal("not_found", reply.GetProperty("data").GetProperty("code").GetString());
    }

    [Fact]
    public async Task QueueReceive_NonBlocking_ConsumesOldestFirstAndPeekKeeps()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        for (var i = 1; i <= 3; i++)
        {
            host.Queue.Send("work", new MessageDraft(Payload: JsonPayload.Parse(i.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        }

        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;

        var peeked = await socket.RequestAsync("queue_receive", "r1", new { channel = "work", limit = 2, peek = true });
        var taken = await socket.RequestAsync("queue_receive", "r2", new { channel = "work", limit = 2 });
        var rest = await socket.RequestAsync("queue_receive", "r3", new { channel = "work" });

        Assert.Equal("messages", peeked.GetProperty("type").GetString());
        Assert.Equal(2, peeked.GetProperty("data").GetProperty("count").GetInt32());
        var takenPayloads = taken.GetProperty("data").GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("payload").GetInt32());
        Assert.Equal([1, 2], takenPayloads);
        Assert.Equal(3, Assert.Single(rest.GetProperty("data").GetProperty("messages").EnumerateArray()).GetProperty("payload").GetInt32());
    }

    [Fact]
    public async Task QueueReceive_Blocking_OtherFramesAreAnsweredWhileItWaits()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;

        await socket.SendAsync(new { type = "queue_receive", id = "wait", data = new { channel = "later", blocking = true, timeout = 30 } });
        var pong = await socket.RequestAsync("ping", "p1");
        Assert.Equal("pong", pong.GetProperty("type").GetString());

        // The send wakes the waiting receive, so its reply and the send's ack may come in either order.
        await socket.SendAsync(new { type = "queue_message", id = "m1", data = new { channel = "later", payload = "hello" } });
        var frames = new[] { await socket.ReceiveAsync(), await socket.ReceiveAsync() };
        var ack = Assert.Single(frames, f => f.GetProperty("type").GetString() == "ack");
        Assert.Equal("m1", ack.GetProperty("id").GetString());
        var messages = Assert.Single(frames, f => f.GetProperty("type").GetString() == "messages");

        Assert.Equal("wait", messages.GetProperty("id").GetString());
        var message = Assert.Single(messages.GetProperty("data").GetProperty("messages").EnumerateArray());
        Assert.Equal("hello", message.GetProperty("payload").GetString());
    }

    [Fact]
    public async Task QueueReceive_BlockingTimeout_AnswersEmptyList()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;

        var reply = await socket.RequestAsync("queue_receive", "r", new { channel = "quiet", blocking = true, timeout = 0.2 });

        Assert.Equal("messages", reply.GetProperty("type").GetString());
        Assert.Equal(0, reply.GetProperty("data").GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task QueueReceive_TooManyWaiting_AnswersRateLimited()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;
        for (var i = 0; i < 32; i++)
        {
            await socket.SendAsync(new { type = "queue_receive", id = $"w{i}", data = new { channel = "never", blocking = true, timeout = 300 } });
        }

        var error = await socket.RequestAsync("queue_receive", "one-too-many", new { channel = "never", blocking = true });

        Assert.Equal("rate_limited", error.GetProperty("data").GetProperty("code").GetString());
    }

    [Fact]
    public async Task QueueReceive_BlockingWhenSocketCloses_TakesNoMessage()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await socket.SendAsync(new { type = "queue_receive", id = "wait", data = new { channel = "orphan", blocking = true, timeout = 30 } });
        await socket.RequestAsync("ping", "p1");
        await socket.DisposeAsync();

        host.Queue.Send("orphan", new MessageDraft());

        var left = new List<QueueMessage>();
        host.Queue.Receive("orphan", 10, peek: false, left);
        Assert.Single(left);
    }

    [Fact]
    public async Task Close_Socket_EndsItsSubscriptions()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await socket.RequestAsync("queue_subscribe", "s1", new { channel = "a" });
        await socket.RequestAsync("queue_subscribe", "s2", new { channel = "b" });
        Assert.Equal(2, host.Queue.GetStats().TotalSubscriptions);

        await socket.Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", TestContext.Current.CancellationToken);
        await socket.DisposeAsync();

        Assert.Equal(0, host.Queue.GetStats().TotalSubscriptions);
    }

    [Theory]
    [InlineData("not json", null, "invalid_json", null)]
    [InlineData("[1,2]", null, "invalid_json", null)]
    [InlineData("""{"id":"x1"}""", "x1", "invalid_argument", "type")]
    [InlineData("""{"type":"shout","id":"x2"}""", "x2", "unknown_type", "type")]
    [InlineData("""{"type":"queue_message","id":"x3","data":"oops"}""", "x3", "invalid_argument", "data")]
    [InlineData("""{"type":"queue_message","id":"x4","data":{}}""", "x4", "invalid_argument", "channel")]
    [InlineData("""{"type":"queue_message","id":"x5","data":{"channel":"bad name!"}}""", "x5", "invalid_argument", "channel")]
    [InlineData("""{"type":"queue_message","id":"x6","data":{"channel":"c","ttl":-1}}""", "x6", "invalid_argument", "ttl")]
    [InlineData("""{"type":"queue_message","id":"x7","data":{"channel":"c","ttl":1.5}}""", "x7", "invalid_argument", "ttl")]
    [InlineData("""{"type":"queue_message","id":"x8","data":{"channel":"c","type":7}}""", "x8", "invalid_argument", "type")]
    [InlineData("""{"type":"queue_receive","id":"x9","data":{"channel":"c","limit":0}}""", "x9", "invalid_argument", "limit")]
    [InlineData("""{"type":"queue_receive","id":"x10","data":{"channel":"c","timeout":301}}""", "x10", "invalid_argument", "timeout")]
    [InlineData("""{"type":"queue_receive","id":"x11","data":{"channel":"c","peek":"yes"}}""", "x11", "invalid_argument", "peek")]
    [InlineData("""{"type":"queue_subscribe","id":"x12","data":{"channel":"c","buffer_size":0}}""", "x12", "invalid_argument", "buffer_size")]
    [InlineData("""{"type":"queue_subscribe","id":"x13","data":{"channel":"c","since_seq":-1}}""", "x13", "invalid_argument", "since_seq")]
    [InlineData("""{"type":"queue_unsubscribe","id":"x14","data":{}}""", "x14", "invalid_argument", "subscription_id")]
    [InlineData("""{"type":"ping","id":true}""", null, "invalid_argument", "id")]
    [InlineData("""{"type":"queue_message","id":"x15","data":{"channel":"c","paylod":{"x":1}}}""", "x15", "invalid_argument", "paylod")]
    [InlineData("""{"type":"queue_subscribe","id":"x16","data":{"channel":"c","since":0}}""", "x16", "invalid_argument", "since")]
    [InlineData("""{"type":"queue_unsubscribe","id":"x17","data":{"subscription_id":"s","channel":"c"}}""", "x17", "invalid_argument", "channel")]
    [InlineData("""{"type":"queue_receive","id":"x18","data":{"channel":"c","wait":true}}""", "x18", "invalid_argument", "wait")]
    [InlineData("""{"type":"ping","id":"x19","data":{"x":1}}""", "x19", "invalid_argument", "x")]
    public async Task BadFrame_Any_AnswersErrorAndKeepsTheConnection(string frame, string? id, string code, string? field)
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;

        await socket.SendAsync(frame);
        var error = await socket.ReceiveAsync("error");

        Assert.Equal(id, error.TryGetProperty("id", out var idElement) ? idElement.GetString() : null);
        var data = error.GetProperty("data");
        Assert.Equal(code, data.GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(data.GetProperty("message").GetString()));
        Assert.Equal(field, data.TryGetProperty("field", out var fieldElement) ? fieldElement.GetString() : null);
        var pong = await socket.RequestAsync("ping", "after");
        Assert.Equal("pong", pong.GetProperty("type").GetString());
    }

    [Theory]
    [InlineData("""{"type":"queue_message","id":"r1","data":{"channel":"c","payload":{"x": tru}}}""", "\"r1\"", "invalid_json", "payload", "at byte 75 (in data.payload.x)")]
    [InlineData("""{"id":42,"type":"ping","data":{"x":}""", "42", "invalid_json", "x", "at byte 35 (in data.x)")]
    [InlineData("""{"type":"queue_message","id":"e","data":{"channel":"c","payload":{"":{"":tru}}}}""", "\"e\"", "invalid_json", "payload", "(in data.payload..)")]
    [InlineData("""{"type":"queue_message","id":"r3","data":{"channel":"c","payload":[1,2,}}""", "\"r3\"", "invalid_json", "payload", "(in data.payload[2])")]
    [InlineData("""{"type":"ping","data":{,"id":"after-the-fault"}""", null, "invalid_json", "data", "at byte 23")]
    [InlineData("""{"type":"ping","id":"r5" """, "\"r5\"", "invalid_json", null, "is not valid JSON at byte")]
    [InlineData("", null, "invalid_json", null, "frame is empty; send a JSON object")]
    [InlineData("not json", null, "invalid_json", null, "is not valid JSON at byte 1: 'not json' is an invalid JSON literal")]
    [InlineData("\"a string\"", null, "invalid_json", null, "must be a JSON object { type, id?, data? }, not a string")]
    [InlineData("[1]", null, "invalid_json", null, "not an array")]
    public async Task BadFrame_NotJson_KeepsTheReadableIdAndSaysWhatAndWhere(string frame, string? rawId, string code, string? field, string message)
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;

        await socket.SendAsync(frame);
        var error = await socket.ReceiveAsync("error");

        Assert.Equal(rawId, error.TryGetProperty("id", out var idElement) ? idElement.GetRawText() : null);
        var data = error.GetProperty("data");
        Assert.Equal(code, data.GetProperty("code").GetString());
        Assert.Contains(message, data.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(field, data.TryGetProperty("field", out var fieldElement) ? fieldElement.GetString() : null);
        Assert.Equal("pong", (await socket.RequestAsync("ping", "after")).GetProperty("type").GetString());
    }

    [Fact]
    public async Task BadFrame_TrailingComma_SaysSoWithoutTheParsersAdviceToItsOwnCode()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;

        await socket.SendAsync("""{"type":"ping","id":"t",}""");
        var message = (await socket.ReceiveAsync("error")).GetProperty("data").GetProperty("message").GetString()!;

        Assert.Contains("trailing comma", message, StringComparison.Ordinal);
        Assert.DoesNotContain("reader options", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadFrame_PayloadTooDeep_KeepsTheIdAndNamesPayload()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;

        // Deeper than any depth limit the frame parser or the payload rule may use.
        await socket.SendAsync("""{"type":"queue_message","id":"deep","data":{"channel":"c","payload":""" + new string('[', 1000) + new string(']', 1000) + "}}");
        var error = await socket.ReceiveAsync("error");

        Assert.Equal("deep", error.GetProperty("id").GetString());
        var data = error.GetProperty("data");
        Assert.Equal("invalid_argument", data.GetProperty("code").GetString());
        Assert.Equal("payload", data.GetProperty("field").GetString());
        Assert.False(string.IsNullOrEmpty(data.GetProperty("message").GetString()));
        Assert.Empty(host.Queue.ListChannels());
    }

    [Fact]
    public async Task Request_InFragments_IsAnsweredAsOneFrame()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;

        await SendFragmentsAsync(socket, "{\"type\":\"queue_message\",", "\"id\":\"frag\",\"data\":{\"channel\":\"c\",", "\"payload\":[1,2,3]}}");
        var ack = await socket.ReceiveAsync("ack");
        await SendFragmentsAsync(socket, "{\"type\":\"ping\",\"id\":\"frag2\",", "\"data\":{\"x\":oops}}");
        var error = await socket.ReceiveAsync("error");

        Assert.Equal("frag", ack.GetProperty("id").GetString());
        Assert.Equal("frag2", error.GetProperty("id").GetString());
        Assert.Equal("invalid_json", error.GetProperty("data").GetProperty("code").GetString());
        Assert.Equal("pong", (await socket.RequestAsync("ping", "after")).GetProperty("type").GetString());
    }

    [Fact]
    public async Task BadFrame_BinaryWithId_AnswersErrorWithTheId()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;

        await socket.Socket.SendAsync("""{"type":"ping","id":"bin"}"""u8.ToArray(), WebSocketMessageType.Binary, true, TestContext.Current.CancellationToken);
        var error = await socket.ReceiveAsync("error");

        Assert.Equal("bin", error.GetProperty("id").GetString());
        Assert.Equal("binary frames are not supported; send JSON text frames", error.GetProperty("data").GetProperty("message").GetString());
    }

    [Fact]
    public async Task BadFrame_TextNotUtf8_IsRefusedWithoutAnErrorLog()
    {
        var logs = new LogCapture();
        await using var host = await TestServerHost.StartInProcessAsync(configure: logs.Install);
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;

        byte[] frame = [.. "{\"id\":\"t\",\"type\":\"ping"u8, 0xC3, 0x28, .. "\"}"u8];
        await socket.Socket.SendAsync(frame, WebSocketMessageType.Text, true, TestContext.Current.CancellationToken);
        var reply = await socket.ReceiveAsync();

        Assert.Equal("error", reply.GetProperty("type").GetString());
        Assert.Equal("t", reply.GetProperty("id").GetString());
        Assert.Equal("frame is not valid UTF-8 at byte 22 (in type); frames are UTF-8 JSON text", reply.GetProperty("data").GetProperty("message").GetString());
        Assert.Equal("type", reply.GetProperty("data").GetProperty("field").GetString());
        byte[] inPayload = [.. "{\"type\":\"queue_message\",\"id\":\"p\",\"data\":{\"channel\":\"c\",\"payload\":{\"t\":\"caf"u8, 0xC3, 0x28, .. "\"}}}"u8];
        await socket.Socket.SendAsync(inPayload, WebSocketMessageType.Text, true, TestContext.Current.CancellationToken);
        var payloadReply = await socket.ReceiveAsync("error");

        Assert.Equal("p", payloadReply.GetProperty("id").GetString());
        Assert.Equal("invalid_argument", payloadReply.GetProperty("data").GetProperty("code").GetString());
        Assert.Equal("payload", payloadReply.GetProperty("data").GetProperty("field").GetString());
        Assert.StartsWith("payload must be valid UTF-8: byte 9 (0xC3)", payloadReply.GetProperty("data").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(host.Queue.ListChannels());
        Assert.Empty(logs.RequestLogs());
        Assert.Equal("pong", (await socket.RequestAsync("ping", "after")).GetProperty("type").GetString());
    }

    [Fact]
    public async Task BadFrame_BinaryNotUtf8_AnswersErrorAndKeepsTheConnection()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;

        byte[] frame = [.. "{\"id\":\"u\",\""u8, 0xFF, 0xFE, .. "\":1}"u8];
        await socket.Socket.SendAsync(frame, WebSocketMessageType.Binary, true, TestContext.Current.CancellationToken);
        var error = await socket.ReceiveAsync("error");

        Assert.Equal("u", error.GetProperty("id").GetString());
        Assert.Equal("pong", (await socket.RequestAsync("ping", "after")).GetProperty("type").GetString());
    }

    [Fact]
    public async Task QueueMessage_UnknownDataField_IsRefusedNamingTheAcceptedFieldsAndNothingIsStored()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;

        var reply = await socket.RequestAsync("queue_message", "m1", new { channel = "ci", bogus = 1 });

        Assert.Equal("error", reply.GetProperty("type").GetString());
        var data = reply.GetProperty("data");
        Assert.Equal("bogus", data.GetProperty("field").GetString());
        Assert.Equal("unknown field 'bogus'; expected: channel, type, payload, ttl, reply_to, correlation_id", data.GetProperty("message").GetString());
        Assert.Empty(host.Queue.ListChannels());
    }

    [Fact]
    public async Task Request_UnknownEnvelopeField_IsIgnored()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;

        await socket.SendAsync("""{"type":"ping","id":"p1","sent_at":123}""");

        Assert.Equal("p1", (await socket.ReceiveAsync("pong")).GetProperty("id").GetString());
    }

    [Fact]
    public async Task BadFrame_TtlOutOfRange_NamesFieldAndRule()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;

        var error = await socket.RequestAsync("queue_message", "t", new { channel = "c", ttl = 999_999_999 });

        Assert.Equal("ttl must be an integer between 0 and 604800", error.GetProperty("data").GetProperty("message").GetString());
    }

    [Fact]
    public async Task BadFrame_Binary_AnswersErrorAndKeepsTheConnection()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;

        await socket.Socket.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, true, TestContext.Current.CancellationToken);
        var error = await socket.ReceiveAsync("error");

        Assert.Equal("invalid_json", error.GetProperty("data").GetProperty("code").GetString());
        Assert.Equal("pong", (await socket.RequestAsync("ping", "after")).GetProperty("type").GetString());
    }

    [Fact]
    public async Task QueueMessage_QueueFull_AnswersQueueFullError()
    {
        await using var host = await TestServerHost.StartInProcessAsync(new() { ["Brummerq:Queue:MaxTotalBytes"] = "10" });
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;

        var error = await socket.RequestAsync("queue_message", "big", new { channel = "c", payload = "more than ten bytes" });

        Assert.Equal("queue_full", error.GetProperty("data").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Subscribe_OverOwnerLimit_AnswersTooManySubscriptions()
    {
        await using var host = await TestServerHost.StartInProcessAsync(new() { ["Brummerq:Queue:MaxSubscriptionsPerOwner"] = "1" });
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;

        await socket.RequestAsync("queue_subscribe", "s1", new { channel = "a" });
        var error = await socket.RequestAsync("queue_subscribe", "s2", new { channel = "b" });

        Assert.Equal("too_many_subscriptions", error.GetProperty("data").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Payload_AnyJsonValue_RoundTripsRaw()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;
        await socket.RequestAsync("queue_subscribe", "s", new { channel = "raw" });

        await socket.SendAsync("""{"type":"queue_message","id":"m","data":{"channel":"raw","payload":[1,"two",{"three":null},true]}}""");
        var first = await socket.ReceiveAsync();
        var second = await socket.ReceiveAsync();

        var push = first.GetProperty("type").GetString() == "queue_message" ? first : second;
        var message = push.GetProperty("data").GetProperty("message");
        Assert.Equal("""[1,"two",{"three":null},true]""", message.GetProperty("payload").GetRawText());
        Assert.Equal("message", message.GetProperty("type").GetString());
        Assert.Equal(3600, message.GetProperty("ttl").GetInt32());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", message.GetProperty("timestamp").GetString());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", message.GetProperty("expires_at").GetString());
    }

    [Fact]
    public async Task Payload_TtlZero_ExpiresAtIsNull()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;
        await socket.RequestAsync("queue_message", "m", new { channel = "forever", ttl = 0 });

        var reply = await socket.RequestAsync("queue_receive", "r", new { channel = "forever" });

        var message = Assert.Single(reply.GetProperty("data").GetProperty("messages").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, message.GetProperty("expires_at").ValueKind);
        Assert.Equal(JsonValueKind.Null, message.GetProperty("payload").ValueKind);
    }

    private static async Task SendFragmentsAsync(TestSocket socket, params string[] fragments)
    {
        for (var i = 0; i < fragments.Length; i++)
        {
            await socket.Socket.SendAsync(System.Text.Encoding.UTF8.GetBytes(fragments[i]), WebSocketMessageType.Text, endOfMessage: i == fragments.Length - 1, TestContext.Current.CancellationToken);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task QueueReceive_BlockingSocketClosedOrAborted_LogsOneDebugLineAndNoFault(bool abort)
    {
        var logs = new LogCapture();
        await using var host = await TestServerHost.StartOnLoopbackAsync(configure: logs.InstallWithDebug);
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;

        await socket.SendAsync("""{"type":"queue_receive","id":"r","data":{"channel":"gone","blocking":true,"timeout":120}}""");
        await Mcp.McpToolsTests.WaitUntilAsync(() => Mcp.McpToolsTests.ReceiverWaiting(host.Queue));
        if (abort)
        {
            socket.Socket.Abort();
        }
        else
        {
            await socket.Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", TestContext.Current.CancellationToken);
        }

        await Mcp.McpToolsTests.WaitUntilAsync(() => !Mcp.McpToolsTests.ReceiverWaiting(host.Queue) && logs.WithEventId(4101).Length + logs.WithEventId(4104).Length > 0);
        host.Queue.Send("gone", default);

        Assert.True(logs.Faults().Length == 0, logs.Dump());
        Assert.True(logs.RequestLogs().Length == 0, logs.Dump());
        var line = Assert.Single(logs.WithEventId(abort ? 4104 : 4101));
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Debug, line.Level);
        Assert.Equal(1, host.Queue.GetStats().TotalMessages);
    }
}
