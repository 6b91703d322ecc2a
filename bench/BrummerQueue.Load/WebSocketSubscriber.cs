using System.Diagnostics;
using System.Text;
using HdrHistogram;

namespace BrummerQueue.Load;

/// <summary>
/// One subscribing WebSocket, subscribed to every channel of the run. For each publisher it expects
/// sequence numbers 1, 2, … in order: a number seen again (or lower than expected) is a duplicate; a
/// skipped one is lost unless the publisher's send failed. Latency (send time in the payload to the
/// moment the frame is read) goes into an HdrHistogram in nanoseconds, for messages sent after the warm-up.
/// </summary>
internal sealed class WebSocketSubscriber(int index, int publishers, LoadCounters counters)
{
    private readonly long[] _nextSeq = [.. Enumerable.Repeat(1L, publishers)];
    private readonly long[] _unique = new long[publishers];
    private long _delivered;
    private long _lastDeliveryTicks;

    public int Index => index;

    public LongHistogram Latency { get; } = LatencyHistograms.Create();

    /// <summary>Pushes read (any publisher), including duplicates.</summary>
    public long Delivered => Volatile.Read(ref _delivered);

    public long Duplicates { get; private set; }

    /// <summary>Sum of the <c>dropped</c> counts the server reported in pushes.</summary>
    public long ServerReportedDropped { get; private set; }

    public string? FirstError { get; private set; }

    /// <summary><see cref="Stopwatch"/> ticks when the last push was read.</summary>
    public long LastDeliveryTicks => Volatile.Read(ref _lastDeliveryTicks);

    /// <summary>Distinct in-order messages seen from <paramref name="publisher"/>.</summary>
    public long UniqueFrom(int publisher) => Volatile.Read(ref _unique[publisher]);

    public static async Task<FrameSocket> SubscribeAsync(Uri url, IReadOnlyList<string> channels, int bufferSize, bool batched, CancellationToken cancellationToken)
    {
        var socket = await FrameSocket.ConnectAsync(url, cancellationToken, batched);
        try
        {
            for (var i = 0; i < channels.Count; i++)
            {
                var channel = channels[i];
                var id = $"sub-{i}";
                await socket.SendAsync(
                    w =>
                    {
                        w.WriteStartObject();
                        w.WriteString("type"u8, "queue_subscribe"u8);
                        w.WriteString("id"u8, id);
                        w.WriteStartObject("data"u8);
                        w.WriteString("channel"u8, channel);
                        w.WriteNumber("buffer_size"u8, bufferSize);
                        w.WriteEndObject();
                        w.WriteEndObject();
                    },
                    cancellationToken);
                var reply = await socket.ReceiveAsync(cancellationToken);
                if (FrameSocket.FrameType(reply.Span) != "subscribed")
                {
                    throw new InvalidOperationException($"subscribe to {channel} failed: {Encoding.UTF8.GetString(reply.Span)}");
                }
            }

            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Reads pushes until <paramref name="stop"/> or the socket closes.</summary>
    public async Task RunAsync(FrameSocket socket, long measureFromTicks, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var frame = await socket.ReceiveAsync(stop);
                var now = Stopwatch.GetTimestamp();
                if (frame.IsEmpty)
                {
                    FirstError ??= "the server closed the subscriber's socket";
                    return;
                }

                if (!PushScanner.TryRead(frame.Span, out var publisher, out var seq, out var ticks, out var dropped) || publisher >= _nextSeq.Length)
                {
                    continue;
                }

                ServerReportedDropped += dropped;
                if (seq < _nextSeq[publisher])
                {
                    Duplicates++;
                }
                else
                {
                    _nextSeq[publisher] = seq + 1;
                    Interlocked.Increment(ref _unique[publisher]);
                }

                Interlocked.Increment(ref _delivered);
                Volatile.Write(ref _lastDeliveryTicks, now);
                Interlocked.Increment(ref counters.Delivered);
                if (ticks >= measureFromTicks)
                {
                    Latency.RecordValue(Math.Max(0, (long)Stopwatch.GetElapsedTime(ticks, now).TotalNanoseconds));
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (System.Net.WebSockets.WebSocketException e)
        {
            FirstError ??= $"receive failed: {e.Message}";
        }
    }
}
