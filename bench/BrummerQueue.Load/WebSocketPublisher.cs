using System.Diagnostics;
using System.Text;
using System.Text.Json;
using HdrHistogram;

namespace BrummerQueue.Load;

/// <summary>
/// One publishing WebSocket. Each message carries the publisher's index, its own sequence number
/// (1, 2, …) and the send time (<see cref="Stopwatch"/> ticks, taken just before the frame is written)
/// inside the payload. In fixed-rate mode, sends are paced from the start time by the <see cref="Pacer"/>
/// (or, without one, by <see cref="Task.Delay(TimeSpan)"/>), so they go out in small bursts, and
/// <see cref="ScheduleLag"/> records how far behind the schedule each send went out. At most <c>window</c> sends await
/// their <c>ack</c>. Message n goes to <c>channels[(index + n) mod count]</c>; the payload is
/// <c>PayloadBytes</c> long exactly. Sending stops at the token or after <c>limit</c> messages (0: no
/// limit); then it waits (bounded) for the outstanding acks.
/// </summary>
internal sealed class WebSocketPublisher(int index, IReadOnlyList<string> channels, long limit, int? ttl, LoadSettings settings, LoadCounters counters, Pacer? pacer = null) : IDisposable
{
    private readonly SemaphoreSlim _window = new(settings.Window, settings.Window);
    private readonly string _pad = new('x', settings.PayloadBytes);
    private long _acked;
    private long _errors;

    public int Index => index;

    /// <summary>Messages the server acknowledged (stored); their sequence numbers are 1..n minus the errors.</summary>
    public long Acked => Volatile.Read(ref _acked);

    public long Errors => Volatile.Read(ref _errors);

    public long Sent { get; private set; }

    public string? FirstError { get; private set; }

    /// <summary><see cref="Stopwatch"/> ticks of the last send.</summary>
    public long LastSendTicks { get; private set; }

    /// <summary>
    /// Fixed-rate mode: how far behind its scheduled time each send went out, in nanoseconds. Sends
    /// far behind went out in a catch-up burst after the publisher was not scheduled on time.
    /// </summary>
    public LongHistogram ScheduleLag { get; } = LatencyHistograms.Create();

    /// <summary>Ticks per message per publisher in fixed-rate mode; 0 for max rate.</summary>
    private long Interval => settings.Rate <= 0 ? 0 : Stopwatch.Frequency * settings.Publishers / settings.Rate;

    public async Task RunAsync(FrameSocket socket, long startTicks, CancellationToken stop)
    {
        using var drain = new CancellationTokenSource();
        var acks = ReadAcksAsync(socket, drain.Token);
        try
        {
            await SendLoopAsync(socket, startTicks, stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (System.Net.WebSockets.WebSocketException e)
        {
            FirstError ??= $"send failed: {e.Message}";
        }

        // Wait (bounded) for the outstanding acknowledgements, unless the socket is gone.
        using var deadline = new CancellationTokenSource(settings.DrainTimeout);
        var slots = TakeAllSlotsAsync(deadline.Token);
        await Task.WhenAny(slots, acks);
        if (!slots.IsCompletedSuccessfully)
        {
            FirstError ??= $"{Sent - Acked - Errors} sends still unacknowledged after {settings.DrainTimeout.TotalSeconds} s";
        }

        await drain.CancelAsync();
        try
        {
            await acks;
            await slots;
        }
        catch (Exception e) when (e is OperationCanceledException or System.Net.WebSockets.WebSocketException)
        {
        }
    }

    private async Task TakeAllSlotsAsync(CancellationToken cancellationToken)
    {
        for (var i = 0; i < settings.Window; i++)
        {
            await _window.WaitAsync(cancellationToken);
        }
    }

    private async Task SendLoopAsync(FrameSocket socket, long startTicks, CancellationToken stop)
    {
        var interval = Interval;
        long seq = 0;
        while (!stop.IsCancellationRequested && (limit == 0 || seq < limit))
        {
            if (interval > 0)
            {
                var scheduled = startTicks + (seq * interval);
                var now = Stopwatch.GetTimestamp();
                if (scheduled > now)
                {
                    if (pacer is not null)
                    {
                        await pacer.WaitUntilAsync(scheduled, stop);
                    }
                    else
                    {
                        // At least 1 ms: a shorter Task.Delay completes at once and the loop would spin.
                        await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(1, Stopwatch.GetElapsedTime(now, scheduled).TotalMilliseconds)), stop);
                    }

                    continue;
                }

                var lag = Stopwatch.GetElapsedTime(scheduled, now);
                ScheduleLag.RecordValue(Math.Max(0, (long)lag.TotalNanoseconds));
            }

            await _window.WaitAsync(stop);
            seq++;
            var s = seq;
            var t = Stopwatch.GetTimestamp();

            // Not cancelled by stop: cancelling a WebSocket send aborts the socket.
            await socket.SendAsync(w => WriteSend(w, s, t), CancellationToken.None);
            Sent = seq;
            LastSendTicks = t;
            Interlocked.Increment(ref counters.Sent);
        }
    }

    private void WriteSend(Utf8JsonWriter w, long seq, long ticks)
    {
        w.WriteStartObject();
        w.WriteString("type"u8, "queue_message"u8);
        w.WriteString("id"u8, seq.ToString(System.Globalization.CultureInfo.InvariantCulture));
        w.WriteStartObject("data"u8);
        w.WriteString("channel"u8, channels[(int)((index + seq) % channels.Count)]);
        if (ttl is { } seconds)
        {
            w.WriteNumber("ttl"u8, seconds);
        }

        // {"lg_p":I,"lg_s":S,"lg_t":T,"pad":"…"} is 34 bytes plus the digits plus the pad.
        var padLength = settings.PayloadBytes - 34 - Digits(index) - Digits(seq) - Digits(ticks);
        w.WriteStartObject("payload"u8);
        w.WriteNumber(PushScanner.PublisherProperty, index);
        w.WriteNumber(PushScanner.SeqProperty, seq);
        w.WriteNumber(PushScanner.TicksProperty, ticks);
        w.WriteString("pad"u8, _pad.AsSpan(0, Math.Max(0, padLength)));
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static int Digits(long value)
    {
        var digits = 1;
        while (value >= 10)
        {
            value /= 10;
            digits++;
        }

        return digits;
    }

    private async Task ReadAcksAsync(FrameSocket socket, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var frame = await socket.ReceiveAsync(cancellationToken);
            if (frame.IsEmpty)
            {
                FirstError ??= "the server closed the publisher's socket";
                return;
            }

            switch (FrameSocket.FrameType(frame.Span))
            {
                case "ack":
                    Interlocked.Increment(ref _acked);
                    Interlocked.Increment(ref counters.Acked);
                    _window.Release();
                    break;
                case "error":
                    Interlocked.Increment(ref _errors);
                    Interlocked.Increment(ref counters.Errors);
                    FirstError ??= Encoding.UTF8.GetString(frame.Span);
                    _window.Release();
                    break;
                default:
                    break;
            }
        }
    }

    public void Dispose() => _window.Dispose();
}
