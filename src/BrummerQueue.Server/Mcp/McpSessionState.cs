using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using BrummerQueue.Server.Protocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace BrummerQueue.Server.Mcp;

/// <summary>
/// What brummerq keeps for one MCP session: the owner tag of its queue subscriptions and the
/// resources it asked to be notified about. Thread-safe: tool calls and pushes run concurrently.
/// </summary>
internal sealed class McpSessionState
{
    private const int Idle = 0;
    private const int Sending = 1;
    private const int SendingAgain = 2;

    private readonly ConcurrentDictionary<string, byte> _subscriptions = new(StringComparer.Ordinal);

    // Resource URI → channel whose new messages update it.
    private readonly ConcurrentDictionary<string, string> _resources = new(StringComparer.Ordinal);

    // Resource URI → its update state: Idle, Sending or SendingAgain, changed only by Interlocked.CompareExchange.
    // Bounds what this session's push holds: one notification per resource being sent, at most one more owed.
    // Benign race: a resource removed and subscribed again while its send runs gets a fresh state, which the old
    // sender may set back to Idle when it ends; at worst one coalesced update of that moment is not sent.
    private readonly ConcurrentDictionary<string, StrongBox<int>> _updates = new(StringComparer.Ordinal);

    /// <summary>Receipts kept per session (attach mode): enough for the receives one forwarding process has in flight.</summary>
    public const int MaxReceipts = 64;

    // Guarded by _receiptsLock. Receipt id → what that receive took, oldest first in _receiptOrder.
    private readonly Dictionary<string, HeldReceive> _receipts = new(StringComparer.Ordinal);
    private readonly Queue<string> _receiptOrder = new();
    private readonly Lock _receiptsLock = new();

    // Created by the first push subscription (Interlocked.CompareExchange), never replaced.
    private ChannelPush? _push;

    // Guarded by _streamsLock. Streamable HTTP GET streams open now (the SDK 2.4.0 drops a notification silently when
    // there is none); _listening completes while one is open and is replaced when the last one closes; _streamsClosed
    // counts closes, so a sender can tell that a stream closed while it wrote.
    private readonly Lock _streamsLock = new();
    private int _streams;
    private long _streamsClosed;
    private TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public McpSessionState(string key, McpServer? server)
    {
        Key = key;
        Owner = SubscriptionOwner.ForMcpSession(key);
        Server = server;
    }

    /// <summary>
    /// For a <c>subscriptions/listen</c> stream (2026-07-28, <see cref="ResourceListen"/>): the listen request's id, which
    /// tags every update sent on it; null for a session. A listen stream owns no queue subscriptions.
    /// </summary>
    public RequestId? ListenId { get; init; }

    /// <summary>The session id (HTTP) or <c>stdio</c>.</summary>
    public string Key { get; }

    /// <summary>The <c>SubscribeOptions.Owner</c> of this session's queue subscriptions.</summary>
    public string Owner { get; }

    /// <summary>
    /// The server used for notifications: set at construction when an HTTP session starts, or by the
    /// first request of the stdio session (<see cref="AttachServer"/>). Benign race: concurrent first
    /// requests of the stdio session may both write it, with servers that reach the same client; a
    /// reader sees null (no push yet) or one of them. Reference writes are atomic.
    /// </summary>
    public McpServer? Server { get; private set; }

    /// <summary>Subscriptions this session made with queue_subscribe (a snapshot).</summary>
    public IReadOnlyCollection<string> SubscriptionIds => [.. _subscriptions.Keys];

    /// <summary>Resource URIs with the channel that updates them (a snapshot).</summary>
    public IReadOnlyCollection<KeyValuePair<string, string>> Resources => [.. _resources];

    /// <summary>Number of resource subscriptions.</summary>
    public int ResourceCount => _resources.Count;

    /// <summary>Records the server of the first request when none was known.</summary>
    public void AttachServer(McpServer server)
    {
        if (Server is null)
        {
            Server = server;
        }
    }

    /// <summary>True for the stdio session, whose notifications always have a stream to go to.</summary>
    public bool IsStdio => string.Equals(Key, McpSessionRegistry.StdioKey, StringComparison.Ordinal);

    /// <summary>Completes when the session has a stream for notifications: at once for stdio; over HTTP while a GET stream is open.</summary>
    public Task WhenListening()
    {
        if (IsStdio)
        {
            return Task.CompletedTask;
        }

        lock (_streamsLock)
        {
            return _listening.Task;
        }
    }

    /// <summary>How many GET streams of this session have closed so far.</summary>
    public long StreamsClosed
    {
        get
        {
            lock (_streamsLock)
            {
                return _streamsClosed;
            }
        }
    }

    /// <summary>A GET stream of this session started its response (the SDK writes notifications to it from now on).</summary>
    public void StreamOpened()
    {
        TaskCompletionSource listening;
        lock (_streamsLock)
        {
            _streams++;
            listening = _listening;
        }

        // Completed outside the lock (continuations run asynchronously anyway).
        listening.TrySetResult();
    }

    /// <summary>A GET stream of this session ended or its client went away.</summary>
    public void StreamClosed()
    {
        lock (_streamsLock)
        {
            _streamsClosed++;
            if (--_streams == 0)
            {
                _listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }

    /// <summary>The session's channel events, once a push subscription made them (else null).</summary>
    public ChannelPush? Push => Volatile.Read(ref _push);

    /// <summary>The session's channel events, made by <paramref name="create"/> the first time (a racing copy is dropped).</summary>
    public ChannelPush GetOrCreatePush(Func<ChannelPush> create)
    {
        if (Volatile.Read(ref _push) is { } push)
        {
            return push;
        }

        var created = create();
        return Interlocked.CompareExchange(ref _push, created, null) ?? created;
    }

    public void AddSubscription(string id) => _subscriptions.TryAdd(id, 0);

    public void RemoveSubscription(string id) => _subscriptions.TryRemove(id, out _);

    public bool AddResource(string uri, string channel) => _resources.TryAdd(uri, channel);

    public bool RemoveResource(string uri)
    {
        _updates.TryRemove(uri, out _);
        return _resources.TryRemove(uri, out _);
    }

    /// <summary>
    /// Records that <paramref name="uri"/> changed. True when the caller must start sending its
    /// <c>notifications/resources/updated</c>; false when a send is already running, which then sends
    /// once more when it ends (<see cref="EndUpdate"/>). Updates say only "read it again", so coalescing
    /// loses nothing, and a client that does not read its stream holds at most two per resource.
    /// </summary>
    public bool TryBeginUpdate(string uri)
    {
        var state = _updates.GetOrAdd(uri, static _ => new StrongBox<int>(Idle));
        while (true)
        {
            var current = Volatile.Read(ref state.Value);
            if (current == SendingAgain)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref state.Value, current == Idle ? Sending : SendingAgain, current) == current)
            {
                return current == Idle;
            }
        }
    }

    /// <summary>Called by the sender after each notification of <paramref name="uri"/>: true when it must send once more.</summary>
    public bool EndUpdate(string uri)
    {
        if (!_updates.TryGetValue(uri, out var state))
        {
            return false;
        }

        while (true)
        {
            var current = Volatile.Read(ref state.Value);
            if (Interlocked.CompareExchange(ref state.Value, current == SendingAgain ? Sending : Idle, current) == current)
            {
                return current == SendingAgain;
            }
        }
    }

    /// <summary>
    /// Keeps what a receive took under a receipt id, so the attach-mode process that made the call can put it back
    /// if it cannot deliver it (<see cref="ReceiveDelivery.PutBackTool"/>): the id <paramref name="chosen"/> by that
    /// process (so it can put back even when it never read the answer), or a new one when it chose none or one this
    /// session already keeps. Only the newest <see cref="MaxReceipts"/> are kept; the receipts end with the session.
    /// </summary>
    public string KeepReceipt(HeldReceive held, string? chosen = null)
    {
        lock (_receiptsLock)
        {
            var id = chosen is not null && !_receipts.ContainsKey(chosen) ? chosen : Guid.NewGuid().ToString("N");
            if (_receiptOrder.Count >= MaxReceipts)
            {
                _receipts.Remove(_receiptOrder.Dequeue());
            }

            _receipts[id] = held;
            _receiptOrder.Enqueue(id);
            return id;
        }
    }

    /// <summary>Takes the receive a receipt names, once; null when unknown, used or no longer kept.</summary>
    public HeldReceive? TakeReceipt(string id)
    {
        lock (_receiptsLock)
        {
            // Its id stays in _receiptOrder until it falls out; removing a missing key there is a no-op.
            return _receipts.Remove(id, out var held) ? held : null;
        }
    }
}
