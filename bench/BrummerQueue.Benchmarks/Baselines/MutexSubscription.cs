using System.Diagnostics.CodeAnalysis;
using BrummerQueue.Core;

namespace BrummerQueue.Benchmarks.Baselines;

/// <summary>A subscription of <see cref="MutexMessageStore"/>: a bounded queue that drops its oldest message. Guarded by the store's lock.</summary>
internal sealed class MutexSubscription(string id, MutexChannel channel, int bufferSize, Lock storeLock, TimeProvider time)
{
    private readonly Queue<QueueMessage> _buffer = new(Math.Min(bufferSize, 16));
    private long _dropped;

    public string Id { get; } = id;

    public MutexChannel Channel { get; } = channel;

    public bool TryRead([NotNullWhen(true)] out QueueMessage? message)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        lock (storeLock)
        {
            while (_buffer.TryDequeue(out message))
            {
                if (!message.IsExpiredAt(now))
                {
                    return true;
                }

                _dropped++;
            }

            return false;
        }
    }

    /// <summary>Adds a message, dropping the oldest when full. Call with the store's lock held.</summary>
    public void EnqueueLocked(QueueMessage message)
    {
        if (_buffer.Count >= bufferSize)
        {
            _buffer.Dequeue();
            _dropped++;
        }

        _buffer.Enqueue(message);
    }
}
