using System.Diagnostics.CodeAnalysis;

namespace BrummerQueue.Core;

/// <summary>
/// The queue engine: channels with bounded backlogs, consuming and peeking receives, and
/// subscriptions. Every member is thread-safe. Refusals (bad argument, full queue, limits,
/// unknown subscription) throw <see cref="QueueException"/> naming the field and the rule; an
/// empty result is a normal return. Stores (in-memory, Redis) implement this interface and pass
/// the same contract tests.
/// </summary>
public interface IMessageQueue : IDisposable
{
    /// <summary>The limits in force.</summary>
    QueueOptions Options { get; }

    /// <summary>
    /// Raised after a message is stored and fanned out, outside every lock, on the sender's thread.
    /// Handlers must be quick and must not throw.
    /// </summary>
    event Action<QueueMessage>? MessageStored;

    /// <summary>
    /// Raised when a limit refuses a request (<see cref="QueueException.Limit"/> is set), just before the
    /// exception is thrown, outside every lock, on the caller's thread. Hosts count limit hits with it.
    /// Handlers must be quick and must not throw.
    /// </summary>
    event Action<QueueException>? LimitHit;

    /// <summary>
    /// Stores a message at the end of <paramref name="channel"/>'s backlog (creating the channel) and copies it to every
    /// subscription of that channel. The payload rule of SPEC.md (JSON, UTF-8, no lone surrogate escape, at most
    /// <see cref="QueueOptions.MaxPayloadDepth"/> levels) is checked here, once, for every face; the payload is stored byte for byte.
    /// </summary>
    SendResult Send(string channel, MessageDraft draft);

    /// <summary>
    /// <see cref="Send"/> without blocking the caller's thread while the store works: the same rules, refusals and
    /// result, and the same single store operation (for the Redis store one script, one round trip, awaited instead of
    /// waited for, and shared with the other sends to that channel made while it was under way). The in-memory store completes synchronously and allocates nothing beyond <see cref="Send"/>.
    /// Refusals come as a faulted task (a <see cref="QueueException"/>), never thrown by the call itself.
    /// Sends under way at the same time may be stored in any order: a caller that needs its order kept awaits each
    /// before starting the next (the WebSocket face does, docs/protocol.md). <paramref name="cancellationToken"/> is observed only before the message is handed to the store
    /// (then nothing is stored and the task is cancelled); a send under way is not abandoned, because its message may
    /// already be stored. Every face sends through this member.
    /// </summary>
    ValueTask<SendResult> SendAsync(string channel, MessageDraft draft, CancellationToken cancellationToken = default);

    /// <summary>
    /// Non-blocking receive from a channel's backlog into <paramref name="into"/>: up to
    /// <paramref name="limit"/> unexpired messages, oldest first, removed unless <paramref name="peek"/>.
    /// Returns how many were added. The allocation-free fast path of <see cref="ReceiveAsync"/>, for callers
    /// that cannot fail to hand over what they took (use <see cref="ReceiveAsync"/> to be able to <see cref="PutBack"/>).
    /// </summary>
    int Receive(string channel, int limit, bool peek, ICollection<QueueMessage> into);

    /// <summary>
    /// Reads, without removing, the newest <paramref name="limit"/> unexpired messages of a channel
    /// into <paramref name="into"/>, oldest of them first (a dashboard's or a resource's view of a
    /// channel). Returns how many were added; an unknown channel has none.
    /// </summary>
    int PeekNewest(string channel, int limit, ICollection<QueueMessage> into);

    /// <summary>
    /// Receives per <paramref name="request"/>. A blocking receive with nothing available waits until
    /// at least one message arrives or the timeout passes (then returns an empty list). Cancelling a
    /// waiting receive takes no message: it stays for the next receiver.
    /// </summary>
    ValueTask<ReceiveResult> ReceiveAsync(ReceiveRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Returns what a consuming <see cref="ReceiveAsync"/> took but could not hand over (the reply failed to
    /// serialize or to send, or the request was cancelled after the take), so that reads never lose
    /// (SPEC.md §1). The messages go back to the head of the backlog (or subscription buffer) they came from,
    /// in their order, before everything newer; a subscription's dropped count is restored for its next read.
    /// For a channel, <see cref="ChannelStats.Consumed"/> is counted at the take and taken back here, so
    /// consumed counts only what was handed over and the figures add up at every moment. Messages that expired
    /// meanwhile are counted as expired, not resurrected; if the backlog (or buffer) filled meanwhile, its
    /// capacity rule applies with the returned messages as its oldest (dropped first, counted as dropped). A
    /// channel that cleanup removed meanwhile is recreated to take them back. Call at most once per result; a
    /// result with no <see cref="ReceiveResult.Source"/> (a peek, nothing taken) is a no-op.
    /// </summary>
    PutBackResult PutBack(ReceiveResult taken);

    /// <summary>
    /// Request/reply (docs/protocol.md "Request/reply"): opens a fresh private reply channel, sends <paramref name="draft"/> to
    /// <paramref name="channel"/> with <c>reply_to</c> set to it (and, without a ttl of its own, a ttl of <paramref name="timeout"/>
    /// rounded up), and returns the request, whose <see cref="PendingRequest.WaitAsync"/> waits up to <paramref name="timeout"/>
    /// for the first reply. A send to the reply channel (<see cref="Send"/>) is that reply. Refusals as <see cref="Send"/>.
    /// </summary>
    PendingRequest Request(string channel, MessageDraft draft, TimeSpan timeout);

    /// <summary>
    /// Acknowledges messages that a receive with <see cref="ReceiveRequest.AckTimeoutSeconds"/> leased to
    /// <paramref name="owner"/> (null: leases taken without an owner): they are removed and counted as consumed and acked.
    /// Ids not out on lease to that owner are listed in <see cref="AckResult.NotLeased"/>, not refused. 1–1000 ids
    /// (<c>invalid_argument</c> naming <c>message_ids</c> otherwise); a bad channel name is refused as by every call.
    /// </summary>
    AckResult Ack(string channel, IReadOnlyList<string> messageIds, string? owner = null);

    /// <summary>Creates a subscription to <paramref name="channel"/> (creating the channel).</summary>
    Subscription Subscribe(string channel, SubscribeOptions? options = null);

    /// <summary>Finds an open subscription by id.</summary>
    bool TryGetSubscription(string subscriptionId, [NotNullWhen(true)] out Subscription? subscription);

    /// <summary>Closes a subscription; false when no open subscription has that id.</summary>
    bool Unsubscribe(string subscriptionId);

    /// <summary>Closes every subscription of <paramref name="owner"/>; returns how many.</summary>
    int UnsubscribeOwner(string owner);

    /// <summary>Live channels sorted by name (ordinal).</summary>
    IReadOnlyList<ChannelInfo> ListChannels();

    /// <summary>Totals and per-channel figures.</summary>
    QueueStats GetStats();

    /// <summary>Runs one cleanup pass now (the sweeper runs it every <see cref="QueueOptions.SweepInterval"/>).</summary>
    SweepResult Sweep();
}
