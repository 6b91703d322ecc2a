using BrummerQueue.Core;
using StackExchange.Redis;

namespace BrummerQueue.Redis;

/// <summary>
/// A request waiting on this node. Its reply channel lives in Redis (<see cref="RedisMessageQueue.InboxKey"/>); the
/// request ends by the close script, run once (<c>_closed</c>, Interlocked), which removes the reply channel and returns
/// the reply if one came, so <c>_outcome</c> gets the reply or null. The timeout's timer, a cancelled wait and
/// <see cref="PendingRequest.Dispose()"/> all end it that way; a waiter that sees the reply in Redis ends it too.
/// </summary>
internal sealed class RedisPendingRequest : PendingRequest
{
    private readonly RedisMessageQueue _queue;
    private readonly string _inbox;
    private readonly RedisKey _key;
    private readonly ITimer _deadline;

    // Completed once: the reply, or null when the request ended without one (or the store's failure to end it).
    private readonly TaskCompletionSource<QueueMessage?> _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Interlocked: 1 once the close script was started.
    private int _closed;

    public RedisPendingRequest(RedisMessageQueue queue, string inbox, RedisKey key, TimeSpan timeout)
    {
        _queue = queue;
        _inbox = inbox;
        _key = key;
        _deadline = queue.Time.CreateTimer(static state => ((RedisPendingRequest)state!).Close(), this, timeout, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Set once by <see cref="RedisMessageQueue.Request"/> right after the send, before the request is handed out.</summary>
    public SendResult Sent { get; set; }

    public override SendResult Request => Sent;

    public override async ValueTask<QueueMessage?> WaitAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            while (!_outcome.Task.IsCompleted)
            {
                // The signal is taken before looking, so a reply after the look still wakes this wait.
                var arrival = _queue.Signals.Current(_inbox);
                var reply = await _queue.CallAsync(() => _queue.Database.HashGetAsync(_key, "reply")).ConfigureAwait(false);
                if (!reply.IsNull)
                {
                    Close();
                    break;
                }

                await Task.WhenAny(arrival, _outcome.Task).WaitAsync(cancellationToken).ConfigureAwait(false);
            }

            return await _outcome.Task.ConfigureAwait(false);
        }
        finally
        {
            Dispose();
        }
    }

    protected override void Dispose(bool disposing) => Close();

    private void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 1)
        {
            return;
        }

        _deadline.Dispose();
        try
        {
            var reply = _queue.Call(() => LuaScripts.CloseInbox.Evaluate(_queue.Database, [_key], []));
            _outcome.TrySetResult(reply.IsNull ? null : MessageBlob.Decode(_inbox, (RedisValue)reply));
        }
        catch (QueueException e)
        {
            // The store is unreachable: the reply channel expires by itself; the waiter sees why.
            _outcome.TrySetException(e);
        }
    }
}
