using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Text;
using BrummerQueue.Core;
using BrummerQueue.Core.InMemory;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace BrummerQueue.Redis;

/// <summary>
/// The Redis store (SPEC.md §6, docs/scale-out.md): every channel, message, subscription buffer and counter lives in
/// Redis, so any number of nodes share one queue. Each operation is one Lua script (atomic, one round trip), given
/// "now" from the injected <see cref="TimeProvider"/> as an argument. The node keeps only what is local by nature:
/// wake-up signals of its waiting readers (<see cref="ChannelSignals"/>, completed by its own sends and by the
/// notifications other nodes publish), and handles of the subscriptions it has seen (<c>_handles</c>, a concurrent
/// dictionary; a handle holds no messages). Blocking receives wait on those signals, never on the shared connection.
/// Every member is thread-safe; a lost connection makes a call throw <see cref="QueueException"/> with
/// <see cref="QueueErrorCodes.StoreUnavailable"/> (at once while the node knows it is not connected), and a background
/// PING every second (<see cref="HealthProblem"/>) tells a Redis that stopped answering from a slow one.
/// </summary>
internal sealed partial class RedisMessageQueue : IMessageQueue
{
    // The health probe (docs/scale-out.md "Failure behaviour"): a PING per second; no answer within 2 s turns health bad
    // until a PING is answered again. Real time, not the queue's TimeProvider: it measures Redis, not message ages.
    private static readonly TimeSpan s_probeInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_probeTimeout = TimeSpan.FromSeconds(2);

    // At most one log line per this many ms for failed calls (an outage fails every call; their count is logged).
    private const long CallLogIntervalMs = 10_000;

    private readonly IConnectionMultiplexer _redis;
    private readonly bool _ownsConnection;
    private readonly IDatabase _db;
    private readonly RedisKeys _keys;
    private readonly TimeProvider _time;
    private readonly long _startMs;
    private readonly ChannelSignals _signals = new();
    private readonly ConcurrentDictionary<string, RedisSubscription> _handles = new(StringComparer.Ordinal);
    private readonly ITimer _sweeper;
    private readonly SendBatcher _batcher;

    // This node's name in the send script's notification, so it ignores its own sends (it raised them already).
    private readonly string _node = ChannelEpoch.New();
    private readonly byte[] _nodeBytes;

    // Interlocked: blocking channel receives waiting on this node (a diagnostic figure of Stats).
    private int _waitingReceivers;

    // Interlocked: 1 once this node subscribed to the notification channels.
    private int _listening;

    // Guarded by _listenLock: which notification channels are subscribed (TryListen).
    private readonly Lock _listenLock = new();
    private readonly bool[] _subscribed;

    // The last connection failure the client reported, short (Volatile; any recent one will do for a message).
    private string? _lastFailure;

    private readonly ILogger _logger;

    // The Redis endpoints as replies and logs name them (host:port, no password).
    private readonly string _endpoints;

    private readonly CancellationTokenSource _probeStop = new();

    // Interlocked/Volatile, 0 or 1: the last probe's PING got no answer in time (1) or was answered (0).
    private int _notAnswering;

    // Interlocked, 0 or 1: a lost connection was logged and its restoration not yet (so each is logged once).
    private int _reportedDown;

    // Interlocked: when a failed call was last logged (Environment.TickCount64 ms), and how many were not logged since.
    private long _lastCallLogMs = long.MinValue / 2;
    private long _unloggedCalls;

    public RedisMessageQueue(IConnectionMultiplexer redis, bool ownsConnection, string keyPrefix, QueueOptions options, TimeProvider time, ILogger logger)
    {
        _redis = redis;
        _logger = logger;
        _endpoints = RedisEndpoints.Format(redis.GetEndPoints());
        _ownsConnection = ownsConnection;
        _db = redis.GetDatabase();
        _keys = new RedisKeys(keyPrefix, _db.Database);
        _time = time;
        _leaseTimer = new DeadlineTimer(time, OnLeaseTimer);
        _batcher = new SendBatcher(SendBatchAsync);
        _nodeBytes = Encoding.ASCII.GetBytes(_node);
        Options = options;
        _startMs = NowMs();
        _subscribed = new bool[_keys.NotifyChannels.Length];
        if (redis.IsConnected)
        {
            TryListen();
        }

        // Notifications published while the node was disconnected are lost: every waiter looks in Redis again.
        redis.ConnectionRestored += OnConnectionRestored;
        redis.ConnectionFailed += OnConnectionFailed;
        _sweeper = time.CreateTimer(static state => ((RedisMessageQueue)state!).SweepInBackground(), this, options.SweepInterval, options.SweepInterval);
        _ = ProbeAsync(_probeStop.Token);
    }

    public QueueOptions Options { get; }

    public event Action<QueueMessage>? MessageStored;

    public event Action<QueueException>? LimitHit;

    /// <summary>True while the connection to Redis is up (for the host's health check).</summary>
    public bool IsConnected => _redis.IsConnected;

    /// <summary>
    /// Null while connected; otherwise the endpoints and the last failure the client reported, e.g.
    /// <c>no connection to 127.0.0.1:6379 (unable to connect: Connection refused)</c>.
    /// </summary>
    public string? ConnectionFailure
    {
        get
        {
            if (_redis.IsConnected)
            {
                return null;
            }

            // The client may not have reported the failure of its first attempt yet: a PING (failing at once) names it.
            var failure = Volatile.Read(ref _lastFailure);
            if (failure is null)
            {
                try
                {
                    _db.Ping();
                    return null;
                }
                catch (RedisConnectionException e)
                {
                    failure = StoreUnavailable.Kind(e.FailureType, e);
                }
                catch (Exception e) when (StoreUnavailable.Is(e))
                {
                }
            }

            return $"no connection to {_endpoints}" + (failure is null ? string.Empty : $" ({failure})");
        }
    }

    /// <summary>
    /// Null while the node can use Redis; otherwise why not, for /healthz: not connected (the node reconnects by itself),
    /// or connected but a PING got no answer within 2 s (a stopped or overloaded Redis) until one is answered again.
    /// </summary>
    public string? HealthProblem => !_redis.IsConnected
        ? $"the Redis store at {_endpoints} is not connected" + (Volatile.Read(ref _lastFailure) is { } failure ? $" ({failure})" : string.Empty) + "; the node is reconnecting"
        : Volatile.Read(ref _notAnswering) == 1
            ? $"the Redis store at {_endpoints} did not answer a PING within {(int)s_probeTimeout.TotalMilliseconds} ms; the node keeps asking"
            : null;

    public SendResult Send(string channel, MessageDraft draft)
    {
        if (ReplyInbox.IsInbox(channel))
        {
            return SendReply(channel, draft);
        }

        var call = PrepareSend(channel, draft);
        var result = RunSendScript(channel, [call], Options.MaxTotalBytes);
        if (RefusedForBytes(result, 0) && PruneAllExpired(call.Now) > 0)
        {
            result = RunSendScript(channel, [call], Options.MaxTotalBytes);
        }

        return Stored(call, result, 0);
    }

    /// <summary>
    /// The send script evaluated asynchronously, no thread waiting for it. Sends to one channel made while its script is
    /// in flight go together in the next call, in the order they came (<see cref="SendBatcher"/>); a send to a channel
    /// with nothing in flight is written to the connection before this returns.
    /// </summary>
    public ValueTask<SendResult> SendAsync(string channel, MessageDraft draft, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<SendResult>(cancellationToken);
        }

        SendCall call;
        try
        {
            if (ReplyInbox.IsInbox(channel))
            {
                // A reply is handed to its waiting request, not stored: the reply script runs as a synchronous call.
                return ValueTask.FromResult(SendReply(channel, draft));
            }

            call = PrepareSend(channel, draft);
            ThrowIfNotConnected();
        }
        catch (Exception e)
        {
            return ValueTask.FromException<SendResult>(StoreUnavailable.Is(e) ? Unavailable(e) : e);
        }

        _batcher.Enqueue(call);
        return new ValueTask<SendResult>(call.Completion.Task);
    }

    public int Receive(string channel, int limit, bool peek, ICollection<QueueMessage> into)
    {
        ArgumentNullException.ThrowIfNull(into);
        ArgumentRules.Limit(limit);
        ArgumentRules.Channel(channel);
        return Take(channel, limit, peek, newest: false, into).Count;
    }

    public int PeekNewest(string channel, int limit, ICollection<QueueMessage> into)
    {
        ArgumentNullException.ThrowIfNull(into);
        ArgumentRules.Limit(limit);
        ArgumentRules.Channel(channel);
        return Take(channel, limit, peek: true, newest: true, into).Count;
    }

    public async ValueTask<ReceiveResult> ReceiveAsync(ReceiveRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if ((request.Channel is null) == (request.SubscriptionId is null))
        {
            throw QueueException.Invalid("channel", "exactly one of channel and subscription_id is required");
        }

        ArgumentRules.Limit(request.Limit);
        var timeout = ArgumentRules.Timeout(request.TimeoutSeconds);
        LeaseRules.AckTimeoutMs(request);
        var deadline = _time.GetTimestamp() + (long)(timeout.TotalSeconds * _time.TimestampFrequency);
        if (request.SubscriptionId is not null)
        {
            if (request.Peek)
            {
                throw QueueException.Invalid("peek", "peek is only allowed with channel, not with subscription_id");
            }

            return await ReadSubscriptionAsync(request.SubscriptionId, request.Limit, request.Blocking ? deadline : 0, cancellationToken).ConfigureAwait(false);
        }

        var channel = request.Channel!;
        ArgumentRules.Channel(channel);
        var messages = new List<QueueMessage>(Math.Min(request.Limit, 16));
        if (!request.Blocking || timeout == TimeSpan.Zero)
        {
            return Taken(messages, request, await TakeOrLeaseAsync(channel, request, messages).ConfigureAwait(false));
        }

        Interlocked.Increment(ref _waitingReceivers);
        try
        {
            while (true)
            {
                // The signal is taken before looking, so an arrival after the look still wakes this wait.
                var arrival = _signals.Current(channel);
                var taken = await TakeOrLeaseAsync(channel, request, messages).ConfigureAwait(false);
                var remaining = RemainingUntil(deadline);
                if (messages.Count > 0 || remaining <= TimeSpan.Zero)
                {
                    return Taken(messages, request, taken);
                }

                // Waiting takes nothing, so a cancelled or timed-out wait loses no message.
                try
                {
                    await arrival.WaitAsync(remaining, _time, cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref _waitingReceivers);
        }
    }

    public PutBackResult PutBack(ReceiveResult taken)
    {
        ArgumentNullException.ThrowIfNull(taken);
        switch (taken.Source)
        {
            case ChannelSource source when taken.Messages.Count > 0:
                {
                    var values = new RedisValue[6 + taken.Messages.Count];
                    values[0] = NowMs();
                    values[1] = Options.ChannelCapacity;
                    values[2] = Options.MaxChannels;
                    values[3] = source.Epoch;
                    values[4] = source.Channel;
                    values[5] = _keys.Notify(source.Channel).ToString();
                    for (var i = 0; i < taken.Messages.Count; i++)
                    {
                        values[6 + i] = MessageBlob.Full(taken.Messages[i]);
                    }

                    var keys = _keys.ChannelKeys(source.Channel);
                    var result = Call(() => LuaScripts.PutBack.Evaluate(_db, keys, values));
                    _signals.Wake(source.Channel);
                    return new PutBackResult((int)result[0], (int)result[1], (int)result[2]);
                }

            case RedisSubscription subscription:
                return subscription.PutBack(taken.Messages, taken.Dropped ?? 0);
            case LeaseSource leases:
                return ReturnUndelivered(leases);
            default:
                return PutBackResult.None;
        }
    }

    public void Dispose()
    {
        _sweeper.Dispose();
        _probeStop.Cancel();
        _probeStop.Dispose();
        DisposeLeaseTimer();
        _redis.ConnectionRestored -= OnConnectionRestored;
        _redis.ConnectionFailed -= OnConnectionFailed;
        var subscriber = _redis.GetSubscriber();
        foreach (var channel in _keys.NotifyChannels)
        {
            try
            {
                subscriber.Unsubscribe(channel, OnNotification);
            }
            catch (Exception e) when (StoreUnavailable.Is(e))
            {
            }
        }

        if (_ownsConnection)
        {
            _redis.Dispose();
        }
    }

    internal long NowMs() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>
    /// Runs <paramref name="call"/>; a failure to reach Redis becomes the <c>store_unavailable</c> refusal
    /// (<see cref="StoreUnavailable"/>), its full diagnostic goes to the log. While the node knows it is not connected
    /// the call fails at once, without waiting for the command timeout.
    /// </summary>
    internal T Call<T>(Func<T> call)
    {
        ThrowIfNotConnected();
        try
        {
            return call();
        }
        catch (Exception e) when (StoreUnavailable.Is(e))
        {
            throw Unavailable(e);
        }
    }

    /// <summary>Runs <paramref name="call"/> asynchronously, as <see cref="Call"/>.</summary>
    internal async Task<T> CallAsync<T>(Func<Task<T>> call)
    {
        ThrowIfNotConnected();
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception e) when (StoreUnavailable.Is(e))
        {
            throw Unavailable(e);
        }
    }

    internal IDatabase Database => _db;

    internal RedisKeys Keys => _keys;

    internal ChannelSignals Signals => _signals;

    internal TimeSpan RemainingUntil(long deadline) => _time.GetElapsedTime(_time.GetTimestamp(), deadline);

    internal TimeProvider Time => _time;

    /// <summary>Checks a send's arguments and makes its <see cref="SendCall"/>; throws a refusal.</summary>
    private SendCall PrepareSend(string channel, MessageDraft draft)
    {
        if (ArgumentRules.Draft(channel, draft, Options, out var type, out var ttl) is { } tooLarge)
        {
            throw Refused(tooLarge);
        }

        ArgumentRules.Channel(channel);
        var payload = draft.Payload;
        var now = NowMs();
        var id = MessageIdGenerator.Next(now);
        var tail = MessageBlob.Tail(now, ttl, id, type, payload, draft.ReplyTo, draft.CorrelationId);
        return new SendCall(channel!, id, type, payload, ttl, now, tail) { ReplyTo = draft.ReplyTo, CorrelationId = draft.CorrelationId };
    }

    /// <summary>The send script for <paramref name="calls"/> (all to <paramref name="channel"/>), waited for; <paramref name="maxBytes"/> the byte cap it applies.</summary>
    private RedisResult RunSendScript(string channel, List<SendCall> calls, long maxBytes) =>
        Call(() => LuaScripts.Send.Evaluate(_db, _keys.ChannelKeys(channel), SendValues(channel, calls, maxBytes)));

    /// <summary>The send script for <paramref name="calls"/> (all to <paramref name="channel"/>) under the byte cap, awaited.</summary>
    private Task<RedisResult> RunSendScriptAsync(string channel, List<SendCall> calls) =>
        CallAsync(() => LuaScripts.Send.EvaluateAsync(_db, _keys.ChannelKeys(channel), SendValues(channel, calls, Options.MaxTotalBytes)));

    /// <summary>The send script's arguments for <paramref name="calls"/>, all to <paramref name="channel"/>, stored in this order.</summary>
    private RedisValue[] SendValues(string channel, List<SendCall> calls, long maxBytes)
    {
        var values = new RedisValue[9 + (3 * calls.Count)];
        values[0] = NowMs();
        values[1] = Options.ChannelCapacity;
        values[2] = maxBytes;
        values[3] = Options.MaxChannels;
        values[4] = ChannelEpoch.New();
        values[5] = channel;
        values[6] = _keys.ChannelPrefix(channel);
        values[7] = _keys.Notify(channel).ToString();
        values[8] = _node;
        for (var i = 0; i < calls.Count; i++)
        {
            values[9 + (3 * i)] = calls[i].Payload.Length;
            values[10 + (3 * i)] = calls[i].Expires;
            values[11 + (3 * i)] = calls[i].Tail;
        }

        return values;
    }

    /// <summary>
    /// Sends one batch (<see cref="SendBatcher"/>) in one script call and completes each call: its message, or its refusal.
    /// The byte budget refuses messages one by one, as if each were sent alone. Refused messages after the batch's last
    /// stored one go again, together and in order, if pruning every expired message then frees something; one refused
    /// before a stored one stays refused, so that a batch is never stored out of order. A failure of the call fails every
    /// message of the batch (its outcome unknown, as <see cref="Unavailable"/> says).
    /// </summary>
    private async Task SendBatchAsync(string channel, List<SendCall> batch)
    {
        var result = await RunSendScriptAsync(channel, batch).ConfigureAwait(false);
        var tail = batch.Count;
        while (tail > 0 && RefusedForBytes(result, tail - 1))
        {
            tail--;
        }

        for (var i = 0; i < tail; i++)
        {
            Complete(batch[i], result, i);
        }

        if (tail == batch.Count)
        {
            return;
        }

        var refused = batch[tail..];
        var offset = tail;
        if (await PruneAllExpiredAsync(NowMs()).ConfigureAwait(false) > 0)
        {
            result = await RunSendScriptAsync(channel, refused).ConfigureAwait(false);
            offset = 0;
        }

        for (var i = 0; i < refused.Count; i++)
        {
            Complete(refused[i], result, offset + i);
        }
    }

    private void Complete(SendCall call, RedisResult result, int index)
    {
        try
        {
            call.Completion.TrySetResult(Stored(call, result, index));
        }
        catch (Exception e)
        {
            call.Completion.TrySetException(e);
        }
    }

    /// <summary>Whether the send script refused the <paramref name="index"/>th message of its batch for the byte budget.</summary>
    private static bool RefusedForBytes(RedisResult result, int index) => (string)result[0]! == "ok" && (long)result[2 + (2 * index)] == 0;

    /// <summary>
    /// The send script's answer for the <paramref name="index"/>th message of its batch: the refusal it names, or the stored
    /// message (waking this node's readers and raising <see cref="MessageStored"/>).
    /// </summary>
    private SendResult Stored(SendCall call, RedisResult result, int index)
    {
        if ((string)result[0]! == "channels")
        {
            throw Refused(QueueRefusals.TooManyChannels(Options.MaxChannels, call.Channel));
        }

        var seq = (long)result[2 + (2 * index)];
        if (seq == 0)
        {
            throw Refused(QueueRefusals.QueueFull(Options.MaxTotalBytes));
        }

        var message = new QueueMessage(call.Id, call.Channel, seq, call.Type, call.Payload, call.Now, call.Ttl)
        {
            ReplyTo = call.ReplyTo,
            CorrelationId = call.CorrelationId,
        };
        _signals.Wake(call.Channel);
        MessageStored?.Invoke(message);
        return new SendResult(message, (int)result[3 + (2 * index)]);
    }

    /// <summary>A channel receive's result; it names the channel's incarnation as its source when it consumed something, for <see cref="PutBack"/>.</summary>
    private static ReceiveResult Taken(List<QueueMessage> messages, bool peek, TakeOutcome taken) =>
        new(messages, null) { Source = peek || messages.Count == 0 ? null : new ChannelSource(taken.Channel, taken.Epoch) };

    /// <summary>One receive script: takes (or peeks) up to <paramref name="limit"/> unexpired messages into <paramref name="into"/>.</summary>
    private TakeOutcome Take(string channel, int limit, bool peek, bool newest, ICollection<QueueMessage> into)
    {
        var values = new RedisValue[] { NowMs(), limit, peek ? 1 : 0, newest ? 1 : 0 };
        return Decode(channel, Call(() => LuaScripts.Receive.Evaluate(_db, _keys.ChannelKeys(channel), values)), into);
    }

    /// <summary><see cref="Take"/> (oldest first) with the script awaited: the receive of <see cref="ReceiveAsync"/>.</summary>
    private async Task<TakeOutcome> TakeAsync(string channel, int limit, bool peek, ICollection<QueueMessage> into)
    {
        var values = new RedisValue[] { NowMs(), limit, peek ? 1 : 0, 0 };
        return Decode(channel, await CallAsync(() => LuaScripts.Receive.EvaluateAsync(_db, _keys.ChannelKeys(channel), values)).ConfigureAwait(false), into);
    }

    private static TakeOutcome Decode(string channel, RedisResult result, ICollection<QueueMessage> into)
    {
        var count = result.Length - 1;
        for (var i = 1; i <= count; i++)
        {
            into.Add(DecodeCounted(channel, (RedisValue)result[i]));
        }

        return new TakeOutcome(channel, (string)result[0]!, count);
    }

    private void OnNotification(RedisChannel channel, RedisValue value)
    {
        var bytes = (byte[]?)value;
        if (bytes is null || bytes.Length < 2)
        {
            return;
        }

        switch (bytes[0])
        {
            case (byte)'s':
                OnStoredElsewhere(bytes);
                break;
            case (byte)'m':
                _signals.Wake(Encoding.UTF8.GetString(bytes.AsSpan(2)));
                break;
            case (byte)'x' when _handles.TryRemove(Encoding.UTF8.GetString(bytes.AsSpan(2)), out var handle):
                handle.MarkClosed();
                break;
        }
    }

    /// <summary>
    /// A send batch's notification, <c>s|node|n|</c> then the channel name's <c>n</c> UTF-8 bytes, then for each message
    /// stored <c>len|</c> and its blob's <c>len</c> bytes: wakes this node's readers of the channel and raises
    /// <see cref="MessageStored"/> for sends made on another node (the sending node raised them already). The blobs ride
    /// in the notification so no node reads Redis for them.
    /// </summary>
    private void OnStoredElsewhere(byte[] notification)
    {
        var span = notification.AsSpan(2);
        var nodeEnd = span.IndexOf((byte)'|');
        if (span[..nodeEnd].SequenceEqual(_nodeBytes))
        {
            return;
        }

        var position = 2 + nodeEnd + 1;
        if (!TryNumber(notification, ref position, out var nameLength))
        {
            return;
        }

        var name = Encoding.UTF8.GetString(notification, position, nameLength);
        position += nameLength;
        _signals.Wake(name);
        if (MessageStored is not { } stored)
        {
            return;
        }

        while (position < notification.Length && TryNumber(notification, ref position, out var length))
        {
            stored(MessageBlob.Decode(name, notification[position..(position + length)]));
            position += length;
        }
    }

    /// <summary>Reads <c>digits|</c> at <paramref name="position"/> and moves past it.</summary>
    private static bool TryNumber(byte[] bytes, ref int position, out int value)
    {
        var span = bytes.AsSpan(position);
        var end = span.IndexOf((byte)'|');
        if (end < 0 || !Utf8Parser.TryParse(span[..end], out value, out _))
        {
            value = 0;
            return false;
        }

        position += end + 1;
        return true;
    }

    /// <summary>Subscribes to the notification channels once; the client makes the subscriptions again after every reconnect.</summary>
    /// <summary>
    /// Subscribes to the notification channels not yet subscribed; true once all are. The pub/sub connection may come up
    /// after the command connection (at start, after an outage), so a failure leaves the rest for the next try: the
    /// probe's next tick or a restored connection. Waiters look in Redis again once it listens (they may have missed news).
    /// </summary>
    private bool TryListen()
    {
        lock (_listenLock)
        {
            if (Volatile.Read(ref _listening) == 1)
            {
                return true;
            }

            var subscriber = _redis.GetSubscriber();
            var channels = _keys.NotifyChannels;
            try
            {
                for (var i = 0; i < channels.Length; i++)
                {
                    if (!_subscribed[i])
                    {
                        subscriber.Subscribe(channels[i], OnNotification);
                        _subscribed[i] = true;
                    }
                }
            }
            catch (Exception e) when (StoreUnavailable.Is(e))
            {
                return false;
            }

            Volatile.Write(ref _listening, 1);
        }

        _signals.WakeAll();
        return true;
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (Volatile.Read(ref _listening) == 0)
        {
            // The store was made before Redis answered (requireConnection: false): subscribe now, off the client's thread.
            _ = Task.Run(TryListen);
        }

        if (e.ConnectionType == ConnectionType.Interactive && Interlocked.Exchange(ref _reportedDown, 0) == 1)
        {
            RedisStoreLog.ConnectionRestored(_logger, _endpoints);
        }

        _signals.WakeAll();
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        var failure = StoreUnavailable.Kind(e.FailureType, e.Exception);
        Volatile.Write(ref _lastFailure, failure);

        // The client reports every failed reconnect attempt too, and each of its two connections (commands, pub/sub): the
        // loss is logged once, for the command connection, until that is restored.
        if (e.ConnectionType == ConnectionType.Interactive && Interlocked.Exchange(ref _reportedDown, 1) == 0)
        {
            RedisStoreLog.ConnectionFailed(_logger, RedisEndpoints.Format(e.EndPoint), failure, e.Exception);
        }
    }

    private void ThrowIfNotConnected()
    {
        if (!_redis.IsConnected)
        {
            throw StoreUnavailable.NotConnected(_endpoints, Volatile.Read(ref _lastFailure));
        }
    }

    /// <summary>The refusal for a failed call; the client's diagnostic is logged (at most one line per 10 s, with the count of the rest).</summary>
    private QueueException Unavailable(Exception e)
    {
        var refusal = StoreUnavailable.From(e, _endpoints, _redis.TimeoutMilliseconds);
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastCallLogMs);
        if (now - last >= CallLogIntervalMs && Interlocked.CompareExchange(ref _lastCallLogMs, now, last) == last)
        {
            RedisStoreLog.CallFailed(_logger, refusal.Message, Interlocked.Exchange(ref _unloggedCalls, 0), e);
        }
        else
        {
            Interlocked.Increment(ref _unloggedCalls);
        }

        return refusal;
    }

    /// <summary>The health probe: a PING per second while connected; see <see cref="HealthProblem"/>. Ends at <see cref="Dispose"/>.</summary>
    private async Task ProbeAsync(CancellationToken stop)
    {
        try
        {
            using var ticks = new PeriodicTimer(s_probeInterval, TimeProvider.System);
            while (await ticks.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                if (!_redis.IsConnected)
                {
                    continue;
                }

                if (Volatile.Read(ref _listening) == 0)
                {
                    TryListen();
                }

                var ping = _db.PingAsync();

                // A PING given up on (or cut short by Dispose) faults later: observe it whatever happens here.
                _ = ping.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                bool answered;
                try
                {
                    await ping.WaitAsync(s_probeTimeout, TimeProvider.System, stop).ConfigureAwait(false);
                    answered = true;
                }
                catch (TimeoutException)
                {
                    // The answer may have come while this continuation waited for a thread.
                    answered = ping.IsCompletedSuccessfully;
                }
                catch (Exception e) when (StoreUnavailable.Is(e))
                {
                    answered = false;
                }

                // This loop is the only writer of _notAnswering: the line is logged before health changes, so whoever sees
                // the change finds the line.
                if (answered)
                {
                    if (Volatile.Read(ref _notAnswering) == 1)
                    {
                        RedisStoreLog.AnswersAgain(_logger, _endpoints);
                        Volatile.Write(ref _notAnswering, 0);
                    }
                }
                else if (_redis.IsConnected && Volatile.Read(ref _notAnswering) == 0)
                {
                    RedisStoreLog.NotAnswering(_logger, _endpoints, (int)s_probeTimeout.TotalMilliseconds);
                    Volatile.Write(ref _notAnswering, 1);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (ObjectDisposedException)
        {
            // The connection was disposed with the store.
        }
    }

    private QueueException Refused(QueueException refusal)
    {
        LimitHit?.Invoke(refusal);
        return refusal;
    }

    private readonly record struct TakeOutcome(string Channel, string Epoch, int Count, long LeaseDeadline = 0);
}
