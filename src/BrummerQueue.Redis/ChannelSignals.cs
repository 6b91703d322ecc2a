using System.Collections.Concurrent;

namespace BrummerQueue.Redis;

/// <summary>
/// The node's wake-ups, one signal per channel name: blocking receivers and subscription readers of a channel take
/// its current signal <em>before</em> they look in Redis, and a send, a put-back or a notification from another node
/// completes it, so no arrival between the look and the wait is missed. Waiting takes nothing from Redis. Lock-free:
/// <see cref="Wake"/> removes the signal it completes, so the next waiter gets a fresh one.
/// </summary>
internal sealed class ChannelSignals
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _signals = new(StringComparer.Ordinal);

    /// <summary>The signal the next arrival on <paramref name="channel"/> completes.</summary>
    public Task Current(string channel) =>
        _signals.GetOrAdd(channel, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>Wakes every waiter of <paramref name="channel"/>; continuations run asynchronously, not on the caller's thread.</summary>
    public void Wake(string channel)
    {
        if (_signals.TryRemove(channel, out var signal))
        {
            signal.TrySetResult();
        }
    }

    /// <summary>Wakes every waiter of every channel (after a reconnect, when notifications may have been missed).</summary>
    public void WakeAll()
    {
        foreach (var (channel, _) in _signals)
        {
            Wake(channel);
        }
    }
}
