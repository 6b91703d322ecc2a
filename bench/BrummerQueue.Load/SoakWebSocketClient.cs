using System.Net.WebSockets;
using System.Text.Json;

namespace BrummerQueue.Load;

/// <summary>
/// One soak WebSocket client: connects, works in its <see cref="SoakRole"/> for a random lifetime,
/// disconnects (an abrupt abort or a close handshake, at random), and reconnects, until the run stops.
/// Producers' messages carry a unique <c>uid</c> in the payload (also the request id); consumers
/// record each uid they take; subscribers check that each subscription's pushes arrive once, in order.
/// At the end of the run every client stops cleanly: producers wait (bounded) for their acks and
/// consumers for their receive in flight, then close.
/// </summary>
internal sealed class SoakWebSocketClient(int index, SoakRole role, IReadOnlyList<string> channels, SoakLedger ledger, LoadSettings settings)
{
    private static readonly TimeSpan s_replyTimeout = TimeSpan.FromSeconds(15);
    private readonly Random _random = new(HashCode.Combine(index, settings.SoakSeed));
    private int _session;

    public async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var lifetime = TimeSpan.FromSeconds(1 + (_random.NextDouble() * settings.SoakMaxLifetime.TotalSeconds));
            try
            {
                await SessionAsync(lifetime, stop);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or InvalidOperationException)
            {
                if (!stop.IsCancellationRequested && e is not OperationCanceledException)
                {
                    ledger.Note($"{role} {index}: {e.GetType().Name}: {e.Message}");
                }
            }

            if (stop.IsCancellationRequested)
            {
                break;
            }

            Interlocked.Increment(ref ledger.Reconnects);
            try
            {
                await Task.Delay(_random.Next(5, 300), stop);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private async Task SessionAsync(TimeSpan lifetime, CancellationToken stop)
    {
        var session = ++_session;
        using var connect = CancellationTokenSource.CreateLinkedTokenSource(stop);
        connect.CancelAfter(s_replyTimeout);
        using var socket = await FrameSocket.ConnectAsync(settings.Url, connect.Token, settings.Batch);
        using var alive = CancellationTokenSource.CreateLinkedTokenSource(stop);
        alive.CancelAfter(lifetime);
        switch (role)
        {
            case SoakRole.Producer:
                await ProduceAsync(socket, session, alive.Token, stop);
                break;
            case SoakRole.Consumer:
                await ConsumeAsync(socket, alive.Token, stop);
                break;
            default:
                await SubscribeAsync(socket, alive.Token);
                break;
        }
    }

    private async Task ProduceAsync(FrameSocket socket, int session, CancellationToken alive, CancellationToken stop)
    {
        const int Window = 8;
        using var window = new SemaphoreSlim(Window, Window);
        var reader = ReadAsync(socket, frame =>
        {
            var type = frame.GetProperty("type").GetString();
            if (type is "ack" or "error" && frame.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String)
            {
                ledger.Settle(id.GetString()!, type == "ack" ? SoakLedger.Acked : SoakLedger.Refused);
                if (type == "error")
                {
                    ledger.Note($"producer {index}: refused: {frame}");
                }

                window.Release();
            }
        });
        var interval = TimeSpan.FromSeconds(Math.Max(1, settings.SoakProducers) / (double)Math.Max(1, settings.Rate));
        var pad = new string('x', Math.Max(0, settings.PayloadBytes - 40));
        var n = 0;
        try
        {
            while (!alive.IsCancellationRequested && !reader.IsCompleted)
            {
                await window.WaitAsync(alive);
                var uid = $"w{index}.{session}.{++n}";
                var channel = channels[_random.Next(channels.Count)];
                ledger.Sending(uid);
                await socket.SendAsync(
                    w =>
                    {
                        w.WriteStartObject();
                        w.WriteString("type"u8, "queue_message"u8);
                        w.WriteString("id"u8, uid);
                        w.WriteStartObject("data"u8);
                        w.WriteString("channel"u8, channel);
                        w.WriteString("type"u8, "soak"u8);
                        w.WriteNumber("ttl"u8, 0);
                        w.WriteStartObject("payload"u8);
                        w.WriteString("uid"u8, uid);
                        w.WriteString("pad"u8, pad);
                        w.WriteEndObject();
                        w.WriteEndObject();
                        w.WriteEndObject();
                    },
                    CancellationToken.None);
                await Task.Delay(interval, alive);
            }
        }
        catch (OperationCanceledException) when (alive.IsCancellationRequested)
        {
        }

        if (stop.IsCancellationRequested || _random.Next(2) == 0)
        {
            // Clean end: wait (bounded) for the outstanding acks, then close.
            using var drain = new CancellationTokenSource(s_replyTimeout);
            try
            {
                for (var i = 0; i < Window; i++)
                {
                    await window.WaitAsync(drain.Token);
                }
            }
            catch (OperationCanceledException)
            {
                ledger.Note($"producer {index}: acks still missing after {s_replyTimeout.TotalSeconds} s");
            }

            await CloseAsync(socket, reader);
        }
        else
        {
            // Abrupt end: unacknowledged sends stay unconfirmed (stored or not).
            socket.Abort();
            await IgnoreAsync(reader);
        }
    }

    private async Task ConsumeAsync(FrameSocket socket, CancellationToken alive, CancellationToken stop)
    {
        TaskCompletionSource? reply = null;
        var reader = ReadAsync(socket, frame =>
        {
            if (frame.GetProperty("type").GetString() != "messages")
            {
                ledger.Note($"consumer {index}: unexpected {frame}");
                return;
            }

            foreach (var message in frame.GetProperty("data").GetProperty("messages").EnumerateArray())
            {
                ledger.Consume(message.GetProperty("payload").GetProperty("uid").GetString()!);
            }

            Volatile.Read(ref reply)?.TrySetResult();
        });
        var n = 0;
        var closeInFlight = settings.SoakInFlightCloses && !stop.IsCancellationRequested && _random.Next(3) == 0;
        while (!reader.IsCompleted)
        {
            var current = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref reply, current);
            var channel = channels[_random.Next(channels.Count)];
            await socket.SendAsync(
                w =>
                {
                    w.WriteStartObject();
                    w.WriteString("type"u8, "queue_receive"u8);
                    w.WriteString("id"u8, $"r{index}.{++n}");
                    w.WriteStartObject("data"u8);
                    w.WriteString("channel"u8, channel);
                    w.WriteNumber("limit"u8, 50);
                    w.WriteBoolean("blocking"u8, true);
                    w.WriteNumber("timeout"u8, 1);
                    w.WriteEndObject();
                    w.WriteEndObject();
                },
                CancellationToken.None);
            if (alive.IsCancellationRequested && closeInFlight)
            {
                // Close handshake while a blocking receive waits: the server must end it taking nothing,
                // or deliver its reply before its close frame.
                break;
            }

            if (await Task.WhenAny(current.Task, reader, Task.Delay(s_replyTimeout, CancellationToken.None)) != current.Task)
            {
                if (!reader.IsCompleted)
                {
                    Interlocked.Increment(ref ledger.FailedReceives);
                    ledger.Note($"consumer {index}: no reply to a receive within {s_replyTimeout.TotalSeconds} s");
                }

                break;
            }

            if (alive.IsCancellationRequested && !closeInFlight)
            {
                break;
            }
        }

        if (stop.IsCancellationRequested || closeInFlight || _random.Next(2) == 0)
        {
            await CloseAsync(socket, reader);
        }
        else
        {
            // Abrupt end with no receive in flight.
            socket.Abort();
            await IgnoreAsync(reader);
        }
    }

    private async Task SubscribeAsync(FrameSocket socket, CancellationToken alive)
    {
        var lastSeq = new Dictionary<string, long>();
        var reader = ReadAsync(socket, frame =>
        {
            if (frame.GetProperty("type").GetString() != "queue_message")
            {
                return;
            }

            var data = frame.GetProperty("data");
            var subscription = data.GetProperty("subscription_id").GetString()!;
            var seq = data.GetProperty("message").GetProperty("seq").GetInt64();
            if (lastSeq.TryGetValue(subscription, out var last) && seq <= last)
            {
                Interlocked.Increment(ref ledger.PushDuplicates);
                ledger.Note($"subscriber {index}: seq {seq} after {last} on {subscription}");
            }

            lastSeq[subscription] = seq;
            Interlocked.Increment(ref ledger.Pushes);
            if (data.TryGetProperty("dropped", out var dropped))
            {
                Interlocked.Add(ref ledger.PushesDroppedByServer, dropped.GetInt64());
            }
        });
        for (var i = 0; i < 2; i++)
        {
            var channel = channels[_random.Next(channels.Count)];
            await socket.SendAsync(
                w =>
                {
                    w.WriteStartObject();
                    w.WriteString("type"u8, "queue_subscribe"u8);
                    w.WriteStartObject("data"u8);
                    w.WriteString("channel"u8, channel);
                    w.WriteNumber("buffer_size"u8, 1000);
                    w.WriteEndObject();
                    w.WriteEndObject();
                },
                CancellationToken.None);
        }

        await Task.WhenAny(reader, Task.Delay(Timeout.InfiniteTimeSpan, alive));
        socket.Abort();
        await IgnoreAsync(reader);
    }

    /// <summary>Reads frames until the socket closes or breaks, handing each to <paramref name="handle"/>.</summary>
    private static Task ReadAsync(FrameSocket socket, Action<JsonElement> handle) => Task.Run(async () =>
    {
        while (true)
        {
            var frame = await socket.ReceiveAsync(CancellationToken.None);
            if (frame.IsEmpty)
            {
                return;
            }

            using var document = JsonDocument.Parse(frame);
            handle(document.RootElement);
        }
    });

    private static async Task CloseAsync(FrameSocket socket, Task reader)
    {
        await socket.CloseAsync();
        if (await Task.WhenAny(reader, Task.Delay(s_replyTimeout)) != reader)
        {
            socket.Abort();
        }

        await IgnoreAsync(reader);
    }

    private static async Task IgnoreAsync(Task reader)
    {
        try
        {
            await reader;
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }
}
