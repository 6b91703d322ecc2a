using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Text;
using BrummerQueue.Core;
using BrummerQueue.Core.InMemory;
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
/// <see cref="QueueErrorCodes.StoreUnavailable"/>.
/// </summary>
internal sealed partial class RedisMessageQueue : IMessageQueue
{

    private readonly IConnectionMultiplexer _redis;
    private readonly bool _ownsConnection;
    private readonly IDatabase _db;
    private readonly RedisKeys _keys;
    private readonly TimeProvider _time;
    private readonly long _startMs;
    private readonly ChannelSignals _signals = new();
    private readonly ConcurrentDictionary<string, RedisSubscription> _handles = new(StringComparer.Ordinal);
    private readonly ITimer _sweeper;

    // This node's name in the send script's notification, so it ignores its own sends (it raised them already).
    private readonly string _node = ChannelEpoch.New();

    // Interlocked: blocking channel receives waiting on this node (a diagnostic figure of Stats).
    private int _waitingReceivers;

    // Interlocked: 1 once this node subscribed to the notification channels.
    private int _listening;

    // The last connection failure the client reported (Volatile; any recent one will do for a message).
    private string? _lastFailure;

    public RedisMessageQueue(IConnectionMultiplexer redis, bool ownsConnection, string keyPrefix, QueueOptions options, TimeProvider time)
    {
        _redis = redis;
        _ownsConnection = ownsConnection;
        _db = redis.GetDatabase();
        _keys = new RedisKeys(keyPrefix);
        _time = time;
        Options = options;
        _startMs = NowMs();
        if (redis.IsConnected)
        {
            Listen();
        }

        // Notifications published while the node was disconnected are lost: every waiter looks in Redis again.
        redis.ConnectionRestored += OnConnectionRestored;
        redis.ConnectionFailed += OnConnectionFailed;
        _sweeper = time.CreateTimer(static state => ((RedisMessageQueue)state!).SweepInBackground(), this, options.SweepInterval, options.SweepInterval);
    }

    public QueueOptions Options { get; }

    public event Action<QueueMessage>? MessageStored;

    public event Action<QueueException>? LimitHit;

    /// <summary>True while the connection to Redis is up (for the host's health check).</summary>
    public bool IsConnected => _redis.IsConnected;

    /// <summary>Null while connected; otherwise the endpoints and the last failure the client reported.</summary>
    public string? ConnectionFailure => _redis.IsConnected
        ? null
        : $"no connection to {string.Join(", ", _redis.GetEndPoints().Select(e => e.ToString()))}" + (Volatile.Read(ref _lastFailure) is { } failure ? $" ({failure})" : string.Empty);

    public SendResult Send(string channel, MessageDraft draft)
    {
        if (ArgumentRules.Draft(channel, draft, Options, out var type, out var ttl) is { } tooLarge)
        {
            throw Refused(tooLarge);
        }

        ArgumentRules.Channel(channel);
        var payload = draft.Payload;

        var now = NowMs();
        var id = MessageIdGenerator.Next(now);
        var expires = ttl == 0 ? 0 : now + (ttl * 1000L);
        var keys = _keys.ChannelKeys(channel!);
        var values = new RedisValue[]
        {
            now, Options.ChannelCapacity, Options.MaxTotalBytes, Options.MaxChannels, payload.Length, expires,
            MessageBlob.Tail(now, ttl, id, type, payload), ChannelEpoch.New(), channel, _keys.ChannelPrefix(channel!), _keys.Notify(channel!).ToString(), _node,
        };
        var result = Call(() => LuaScripts.Send.Evaluate(_db, keys, values));
        var status = (string)result[0]!;
        if (status == "bytes" && PruneAllExpired(now) > 0)
        {
            result = Call(() => LuaScripts.Send.Evaluate(_db, keys, values));
            status = (string)result[0]!;
        }

        switch (status)
        {
            case "bytes":
                throw Refused(QueueRefusals.QueueFull(Options.MaxTotalBytes));
            case "channels":
                throw Refused(QueueRefusals.TooManyChannels(Options.MaxChannels, channel!));
        }

        var message = new QueueMessage(id, channel!, (long)result[1], type, payload, now, ttl);
        _signals.Wake(channel!);
        MessageStored?.Invoke(message);
        return new SendResult(message, (int)result[3]);
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
            return Taken(messages, request, TakeOrLease(channel, request, messages));
        }

        Interlocked.Increment(ref _waitingReceivers);
        try
        {
            while (true)
            {
                // The signal is taken before looking, so an arrival after the look still wakes this wait.
                var arrival = _signals.Current(channel);
                var taken = TakeOrLease(channel, request, messages);
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

    /// <summary>Runs <paramref name="call"/>; a lost connection becomes the <c>store_unavailable</c> refusal.</summary>
    internal static T Call<T>(Func<T> call)
    {
        try
        {
            return call();
        }
        catch (Exception e) when (StoreUnavailable.Is(e))
        {
            throw StoreUnavailable.From(e);
        }
    }

    internal static async Task<T> CallAsync<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception e) when (StoreUnavailable.Is(e))
        {
            throw StoreUnavailable.From(e);
        }
    }

    internal IDatabase Database => _db;

    internal RedisKeys Keys => _keys;

    internal ChannelSignals Signals => _signals;

    internal TimeSpan RemainingUntil(long deadline) => _time.GetElapsedTime(_time.GetTimestamp(), deadline);

    internal TimeProvider Time => _time;

    /// <summary>A channel receive's result; it names the channel's incarnation as its source when it consumed something, for <see cref="PutBack"/>.</summary>
    private static ReceiveResult Taken(List<QueueMessage> messages, bool peek, TakeOutcome taken) =>
        new(messages, null) { Source = peek || messages.Count == 0 ? null : new ChannelSource(taken.Channel, taken.Epoch) };

    /// <summary>One receive script: takes (or peeks) up to <paramref name="limit"/> unexpired messages into <paramref name="into"/>.</summary>
    private TakeOutcome Take(string channel, int limit, bool peek, bool newest, ICollection<QueueMessage> into)
    {
        var values = new RedisValue[] { NowMs(), limit, peek ? 1 : 0, newest ? 1 : 0 };
        var result = Call(() => LuaScripts.Receive.Evaluate(_db, _keys.ChannelKeys(channel), values));
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
    /// A send's notification, <c>s|node|n|</c> then the channel name's <c>n</c> UTF-8 bytes and the stored blob: wakes
    /// this node's readers of the channel and raises <see cref="MessageStored"/> for a send made on another node (the
    /// sending node raised it already). The blob rides in the notification so no node reads Redis for it.
    /// </summary>
    private void OnStoredElsewhere(byte[] notification)
    {
        var span = notification.AsSpan(2);
        var nodeEnd = span.IndexOf((byte)'|');
        var own = Encoding.ASCII.GetString(span[..nodeEnd]) == _node;
        span = span[(nodeEnd + 1)..];
        var lengthEnd = span.IndexOf((byte)'|');
        if (!Utf8Parser.TryParse(span[..lengthEnd], out int nameLength, out _))
        {
            return;
        }

        var nameStart = notification.Length - span.Length + lengthEnd + 1;
        var name = Encoding.UTF8.GetString(notification, nameStart, nameLength);
        if (own)
        {
            return;
        }

        _signals.Wake(name);
        if (MessageStored is { } stored)
        {
            stored(MessageBlob.Decode(name, notification[(nameStart + nameLength)..]));
        }
    }

    /// <summary>Subscribes to the notification channels once; the client makes the subscriptions again after every reconnect.</summary>
    private void Listen()
    {
        if (Interlocked.Exchange(ref _listening, 1) == 1)
        {
            return;
        }

        var subscriber = _redis.GetSubscriber();
        foreach (var channel in _keys.NotifyChannels)
        {
            subscriber.Subscribe(channel, OnNotification);
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (Volatile.Read(ref _listening) == 0)
        {
            // The store was made before Redis answered (requireConnection: false): subscribe now, off the client's thread.
            _ = Task.Run(() =>
            {
                try
                {
                    Listen();
                }
                catch (Exception failure) when (StoreUnavailable.Is(failure))
                {
                    Interlocked.Exchange(ref _listening, 0);
                }
            });
        }

        _signals.WakeAll();
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e) =>
        Volatile.Write(ref _lastFailure, $"{e.FailureType}: {e.Exception?.Message.Split('\n', 2)[0].TrimEnd('\r') ?? "no answer"}");

    private QueueException Refused(QueueException refusal)
    {
        LimitHit?.Invoke(refusal);
        return refusal;
    }

    private readonly record struct TakeOutcome(string Channel, string Epoch, int Count, long LeaseDeadline = 0);
}
