using System.Text.Json;

namespace BrummerQueue.Load;

/// <summary>
/// Reads what the load run needs from a push frame — <c>{"type":"queue_message","data":{subscription_id,
/// message:{…, payload:{lg_p, lg_s, lg_t, pad}}, dropped?}}</c> — with one forward pass of a
/// <see cref="Utf8JsonReader"/>, without building a document.
/// </summary>
internal static class PushScanner
{
    public static ReadOnlySpan<byte> PublisherProperty => "lg_p"u8;

    public static ReadOnlySpan<byte> SeqProperty => "lg_s"u8;

    public static ReadOnlySpan<byte> TicksProperty => "lg_t"u8;

    /// <summary>True for a push carrying a load-run payload; <paramref name="dropped"/> is the server's <c>dropped</c> count (0 when absent).</summary>
    public static bool TryRead(ReadOnlySpan<byte> frame, out int publisher, out long seq, out long ticks, out long dropped)
    {
        publisher = -1;
        seq = -1;
        ticks = 0;
        dropped = 0;
        var isPush = false;
        var reader = new Utf8JsonReader(frame);
        while (reader.Read())
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            if (reader.CurrentDepth == 1 && reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                if (!reader.ValueTextEquals("queue_message"u8))
                {
                    return false;
                }

                isPush = true;
            }
            else if (reader.ValueTextEquals(PublisherProperty))
            {
                reader.Read();
                publisher = reader.GetInt32();
            }
            else if (reader.ValueTextEquals(SeqProperty))
            {
                reader.Read();
                seq = reader.GetInt64();
            }
            else if (reader.ValueTextEquals(TicksProperty))
            {
                reader.Read();
                ticks = reader.GetInt64();
            }
            else if (reader.CurrentDepth == 2 && reader.ValueTextEquals("dropped"u8))
            {
                reader.Read();
                dropped = reader.TokenType == JsonTokenType.Number ? reader.GetInt64() : 0;
            }
        }

        return isPush && publisher >= 0 && seq > 0;
    }
}
