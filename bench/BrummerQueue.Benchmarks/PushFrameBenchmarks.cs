using System.Buffers;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BrummerQueue.Core;
using BrummerQueue.Server.Protocol;
using BrummerQueue.Server.WebSockets;

namespace BrummerQueue.Benchmarks;

/// <summary>
/// The WebSocket push frames of one new message for 1, 10 or 100 subscribers, written into the socket writer's
/// reused buffer. Baseline: the frame written field by field through a JSON writer for every subscriber (the
/// server before issue 14). <see cref="SharedJson"/>: the message's JSON written once, on its first push, and
/// copied with each subscription's pre-made head (the server now). Each operation makes a new message, as each
/// send does, so the one-time encoding is inside the measurement.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class PushFrameBenchmarks
{
    private static readonly JsonPayload s_payload = JsonPayload.Parse("""{"event":"click","target":"#buy","x":120,"y":48,"title":"größe"}""");
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private string[] _ids = [];
    private byte[][] _heads = [];
    private long _seq;

    [Params(1, 10, 100)]
    public int Subscribers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _ids = [.. Enumerable.Range(0, Subscribers).Select(i => "sub-" + Guid.CreateVersion7().ToString("N"))];
        _heads = [.. _ids.Select(ServerFrames.PushHead)];
    }

    [Benchmark(Baseline = true)]
    public int PerSubscriberJson()
    {
        var message = NewMessage();
        var total = 0;
        foreach (var id in _ids)
        {
            _buffer.ResetWrittenCount();
            using (var w = new Utf8JsonWriter(_buffer, WireJson.WriterOptions))
            {
                w.WriteStartObject();
                w.WriteString("type"u8, "queue_message"u8);
                w.WritePropertyName("data"u8);
                w.WriteStartObject();
                w.WriteString("subscription_id"u8, id);
                w.WritePropertyName("message"u8);
                MessageJson.WriteMessage(w, message);
                w.WriteEndObject();
                w.WriteEndObject();
            }

            total += _buffer.WrittenCount;
        }

        return total;
    }

    [Benchmark]
    public int SharedJson()
    {
        var message = NewMessage();
        var total = 0;
        foreach (var head in _heads)
        {
            _buffer.ResetWrittenCount();
            ServerFrames.WritePush(_buffer, head, message, 0);
            total += _buffer.WrittenCount;
        }

        return total;
    }

    private QueueMessage NewMessage() =>
        new(Guid.CreateVersion7(), "app.events", ++_seq, "ui.click", s_payload, 1_738_324_800_123, 3600);
}
