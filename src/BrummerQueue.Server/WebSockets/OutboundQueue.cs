using System.Net.WebSockets;
using BrummerQueue.Core;

namespace BrummerQueue.Server.WebSockets;

/// <summary>
/// The frames waiting for one socket's single writer. Replies (and the close request) are never
/// dropped and go out first, in the order queued; the reader bounds them by waiting for
/// <see cref="WaitForReplySpaceAsync"/> (a count) and <see cref="WaitForReplyBytesAsync"/> (bytes)
/// before it handles the next frame, so a client that stops reading is stopped from sending, and
/// what it left unread is at most the byte budget plus one reply (and the replies of its waiting
/// receives, each holding its slot already). Pushes are bounded by <c>pushCapacity</c> the same way: a
/// subscription's pump waits for <see cref="WaitForPushSpaceAsync"/> before it takes messages from the
/// subscription, so a slow socket holds its pumps back (back-pressure) and never loses a push here; its
/// messages wait in the subscription's own buffer, which alone drops (oldest first, counted, SPEC.md §1), so a
/// slow socket never blocks a sender either.
/// Thread-safe: many producers (reader, subscription pumps, blocking receives), one consumer.
/// </summary>
internal sealed class OutboundQueue : IDisposable
{
    private readonly Lock _lock = new();

    // Guarded by _lock.
    private readonly Queue<OutboundItem> _replies = new();

    // Guarded by _lock. At most pushCapacity items: each holds a slot of _pushSpace.
    private readonly Queue<OutboundItem> _pushes;

    // Counts free push slots: taken by a subscription's pump before it reads the subscription, given back by the writer.
    private readonly SemaphoreSlim _pushSpace;

    // Counts free reply slots: taken by producers before they queue a reply, given back by the writer.
    private readonly SemaphoreSlim _replySpace;

    // Released (to at most 1) when an item arrives while the writer waits; guarded flag below.
    private readonly SemaphoreSlim _itemAvailable = new(0, 1);

    // Guarded by _lock. True while the writer is about to wait on _itemAvailable.
    private bool _writerWaiting;

    // Guarded by _lock. Set by Complete or by queuing a close: nothing more is accepted.
    private bool _completed;

    private readonly long _replyByteBudget;

    // Guarded by _lock. Bytes of the replies queued and not yet taken by the writer.
    private long _replyBytes;

    // Guarded by _lock. True while the reader waits in WaitForReplyBytesAsync; whoever clears it releases _replyBytesFreed once.
    private bool _readerWaitingForBytes;

    // Released (to at most 1) when the queued reply bytes fall under the budget, or the queue completes, while the reader waits.
    private readonly SemaphoreSlim _replyBytesFreed = new(0, 1);

    public OutboundQueue(int pushCapacity, int replyCapacity, long replyByteBudget = long.MaxValue)
    {
        _pushes = new Queue<OutboundItem>(Math.Min(pushCapacity, 64));
        _pushSpace = new SemaphoreSlim(pushCapacity, pushCapacity);
        _replySpace = new SemaphoreSlim(replyCapacity, replyCapacity);
        _replyByteBudget = replyByteBudget;
    }

    /// <summary>Bytes of the replies waiting for the writer.</summary>
    public long ReplyBytes
    {
        get
        {
            lock (_lock)
            {
                return _replyBytes;
            }
        }
    }

    /// <summary>
    /// Waits for room for at least one push and takes up to <paramref name="most"/> slots (the first waited for, the
    /// rest only if free now); returns how many. Each slot is returned when the writer takes a push queued with it;
    /// give back unused ones with <see cref="ReturnPushSpace"/>.
    /// </summary>
    public async ValueTask<int> WaitForPushSpaceAsync(int most, CancellationToken cancellationToken)
    {
        await _pushSpace.WaitAsync(cancellationToken).ConfigureAwait(false);
        var taken = 1;
        while (taken < most && _pushSpace.Wait(0, CancellationToken.None))
        {
            taken++;
        }

        return taken;
    }

    /// <summary>Gives back push slots taken with <see cref="WaitForPushSpaceAsync"/> and not used.</summary>
    public void ReturnPushSpace(int count)
    {
        if (count > 0)
        {
            _pushSpace.Release(count);
        }
    }

    /// <summary>Waits for room for one reply; the slot is returned when the writer takes the reply.</summary>
    public Task WaitForReplySpaceAsync(CancellationToken cancellationToken) => _replySpace.WaitAsync(cancellationToken);

    /// <summary>
    /// Waits until the queued replies hold fewer bytes than the budget (or the queue completed). Only the
    /// reader calls it, before it handles the next frame: one waiter at a time.
    /// </summary>
    public async Task WaitForReplyBytesAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            lock (_lock)
            {
                if (_replyBytes < _replyByteBudget || _completed)
                {
                    _readerWaitingForBytes = false;
                    return;
                }

                _readerWaitingForBytes = true;
            }

            await _replyBytesFreed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Queues a reply; call after <see cref="WaitForReplySpaceAsync"/>. False once completed. <paramref name="taken"/>
    /// marks a reply that hands over consumed messages (see <see cref="OutboundItem.Taken"/>).
    /// </summary>
    public bool TryEnqueueReply(byte[] frame, ReceiveResult? taken = null) => TryEnqueue(new OutboundItem { Reply = frame, Taken = taken }, isReply: true);

    /// <summary>
    /// Takes the replies that hand over consumed messages and were never given to the writer; call once the
    /// queue is completed and the writer has stopped, so that nothing can be added or dequeued meanwhile.
    /// </summary>
    public List<ReceiveResult> DrainUnsentTaken()
    {
        var unsent = new List<ReceiveResult>();
        lock (_lock)
        {
            while (_replies.TryDequeue(out var item))
            {
                if (item.Taken is { } taken)
                {
                    unsent.Add(taken);
                }
            }
        }

        return unsent;
    }

    /// <summary>Queues the close handshake after the replies already queued; later items are refused.</summary>
    public void EnqueueClose(WebSocketCloseStatus status, string reason)
    {
        TryEnqueue(new OutboundItem { CloseStatus = status, CloseReason = reason }, isReply: true);
    }

    /// <summary>
    /// Queues a push in a slot taken with <see cref="WaitForPushSpaceAsync"/>; <paramref name="dropped"/> is what the
    /// subscription's buffer dropped before <paramref name="message"/>. False once completed.
    /// </summary>
    public bool TryEnqueuePush(SocketSubscription subscription, QueueMessage message, long dropped) =>
        TryEnqueue(new OutboundItem { Subscription = subscription, Message = message, Dropped = dropped }, isReply: false);

    /// <summary>Refuses further items; the writer still gets what is queued, then null.</summary>
    public void Complete()
    {
        bool wake;
        bool wakeReader;
        lock (_lock)
        {
            _completed = true;
            wake = _writerWaiting;
            _writerWaiting = false;
            wakeReader = _readerWaitingForBytes;
            _readerWaitingForBytes = false;
        }

        // Released outside the lock.
        if (wake)
        {
            _itemAvailable.Release();
        }

        if (wakeReader)
        {
            _replyBytesFreed.Release();
        }
    }

    /// <summary>The next item for the writer, replies first; null once completed and empty.</summary>
    public async ValueTask<OutboundItem?> DequeueAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (TryTake(waitIfEmpty: true, out var item) is { } taken)
            {
                return taken ? item : null;
            }

            await _itemAvailable.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The next item for the writer if one is queued now (replies first), without waiting: a batching writer's next part of a frame.</summary>
    public bool TryDequeue(out OutboundItem item) => TryTake(waitIfEmpty: false, out item) == true;

    /// <summary>True with an item; false when completed and empty (or empty and not <paramref name="waitIfEmpty"/>); null when the writer should wait.</summary>
    private bool? TryTake(bool waitIfEmpty, out OutboundItem item)
    {
        OutboundItem reply;
        bool dequeued;
        var wakeReader = false;
        lock (_lock)
        {
            dequeued = _replies.TryDequeue(out reply);
            if (dequeued)
            {
                if (reply.Reply is not null)
                {
                    _replySpace.Release();
                    _replyBytes -= reply.Reply.Length;
                    if (_readerWaitingForBytes && _replyBytes < _replyByteBudget)
                    {
                        _readerWaitingForBytes = false;
                        wakeReader = true;
                    }
                }
            }
            else if (_pushes.TryDequeue(out var push))
            {
                _pushSpace.Release();
                item = push;
                return true;
            }
            else if (_completed || !waitIfEmpty)
            {
                item = default;
                return false;
            }
            else
            {
                _writerWaiting = true;
            }
        }

        // The lock is released: wake the reader outside it.
        if (wakeReader)
        {
            _replyBytesFreed.Release();
        }

        item = reply;
        return dequeued ? true : null;
    }

    /// <summary>Frees the wait handles; call once the writer has stopped (later producers find the queue completed and touch neither).</summary>
    public void Dispose()
    {
        Complete();
        _replySpace.Dispose();
        _pushSpace.Dispose();
        _itemAvailable.Dispose();
        _replyBytesFreed.Dispose();
    }

    private bool TryEnqueue(OutboundItem item, bool isReply)
    {
        bool wake;
        lock (_lock)
        {
            if (_completed)
            {
                return false;
            }

            if (isReply)
            {
                _replies.Enqueue(item);
                _replyBytes += item.Reply?.Length ?? 0;
                _completed |= item.CloseStatus is not null;
            }
            else
            {
                _pushes.Enqueue(item);
            }

            wake = _writerWaiting;
            _writerWaiting = false;
        }

        // The lock is released: wake the writer outside it.
        if (wake)
        {
            _itemAvailable.Release();
        }

        return true;
    }
}
