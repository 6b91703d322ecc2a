using System.Collections.Concurrent;

namespace BrummerQueue.Redis;

/// <summary>
/// Group commit for sends (docs/scale-out.md "Batched sends"). A send to a channel with no send script in flight goes at
/// once, as a batch of one; sends to that channel that arrive while one is in flight wait, in arrival order, and go
/// together in the next script call (at most <see cref="MaxMessages"/> messages and, beyond the first, at most
/// <see cref="MaxBytes"/> payload bytes). So an idle channel adds no delay, and a busy one costs Redis one script and one
/// round trip per batch instead of per message. Batches of one channel never overlap; those of different channels do.
/// Thread-safe: each channel's line is guarded by its own lock and leaves the dictionary when it runs empty.
/// </summary>
/// <param name="run">Sends one batch to one channel and completes every call's <see cref="SendCall.Completion"/>.</param>
internal sealed class SendBatcher(Func<string, List<SendCall>, Task> run)
{
    /// <summary>The most messages one script call stores.</summary>
    public const int MaxMessages = 64;

    /// <summary>The most payload bytes one script call carries, unless its first message alone is larger.</summary>
    public const int MaxBytes = 1 << 20;

    private readonly ConcurrentDictionary<string, Line> _lines = new(StringComparer.Ordinal);

    /// <summary>Hands <paramref name="call"/> to the store; its <see cref="SendCall.Completion"/> completes when its batch is answered.</summary>
    public void Enqueue(SendCall call)
    {
        while (true)
        {
            var line = _lines.GetOrAdd(call.Channel, static _ => new Line());
            lock (line.Lock)
            {
                if (line.Retired)
                {
                    continue;
                }

                if (line.InFlight)
                {
                    line.Waiting.Enqueue(call);
                    return;
                }

                line.InFlight = true;
            }

            _ = RunAsync(call.Channel, line, [call]);
            return;
        }
    }

    /// <summary>Runs batches for one channel until nothing waits; the first is written to Redis before this returns.</summary>
    private async Task RunAsync(string channel, Line line, List<SendCall> batch)
    {
        while (true)
        {
            try
            {
                await run(channel, batch).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                foreach (var call in batch)
                {
                    call.Completion.TrySetException(e);
                }
            }

            lock (line.Lock)
            {
                if (line.Waiting.Count == 0)
                {
                    line.InFlight = false;
                    line.Retired = true;
                    _lines.TryRemove(new KeyValuePair<string, Line>(channel, line));
                    return;
                }

                batch = [line.Waiting.Dequeue()];
                var bytes = batch[0].Payload.Length;
                while (batch.Count < MaxMessages && line.Waiting.TryPeek(out var next) && bytes + next.Payload.Length <= MaxBytes)
                {
                    bytes += next.Payload.Length;
                    batch.Add(line.Waiting.Dequeue());
                }
            }
        }
    }

    /// <summary>One channel's sends: whether a batch is in flight, and those waiting for the next. Guarded by <see cref="Lock"/>.</summary>
    private sealed class Line
    {
        public Lock Lock { get; } = new();

        public Queue<SendCall> Waiting { get; } = new();

        public bool InFlight { get; set; }

        /// <summary>Left the dictionary: an enqueuer that still holds it takes a new line.</summary>
        public bool Retired { get; set; }
    }
}
