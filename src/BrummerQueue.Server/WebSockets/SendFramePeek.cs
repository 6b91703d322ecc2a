using System.Text.Json;

namespace BrummerQueue.Server.WebSockets;

/// <summary>
/// Tells, before a frame is handled, whether it is a <c>queue_message</c> to a given channel, so that the reader may
/// start it while earlier sends to that channel are still under way (docs/protocol.md "Pipelined sends"). Strict: a
/// frame that is not valid JSON, names <c>type</c>, <c>data</c> or <c>channel</c> twice, or is anything else answers
/// false, and the reader then waits for the earlier sends first. Allocates nothing.
/// </summary>
internal static class SendFramePeek
{
    /// <summary>
    /// True when <paramref name="frame"/> is a JSON object whose <c>type</c> is <c>queue_message</c> and whose
    /// <c>data.channel</c> is <paramref name="channel"/>, nesting at most <paramref name="maxDepth"/> levels (the frame
    /// parser's own bound, <see cref="Protocol.PayloadEnvelope.MaxDepth"/>: a deeper frame is refused there anyway).
    /// </summary>
    public static bool IsSendTo(ReadOnlySpan<byte> frame, string channel, int maxDepth)
    {
        var reader = new Utf8JsonReader(frame, new JsonReaderOptions { MaxDepth = maxDepth });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            bool? isSend = null;
            bool? toChannel = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("type"u8))
                {
                    reader.Read();
                    if (isSend is not null)
                    {
                        return false;
                    }

                    isSend = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("queue_message"u8);
                }
                else if (reader.ValueTextEquals("data"u8))
                {
                    reader.Read();
                    if (toChannel is not null || reader.TokenType != JsonTokenType.StartObject)
                    {
                        return false;
                    }

                    toChannel = false;
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        var isChannel = reader.ValueTextEquals("channel"u8);
                        reader.Read();
                        if (isChannel)
                        {
                            if (toChannel == true)
                            {
                                return false;
                            }

                            toChannel = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals(channel);
                            if (toChannel == false)
                            {
                                return false;
                            }
                        }
                        else
                        {
                            reader.Skip();
                        }
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            // The whole frame must be one well-formed object.
            return isSend == true && toChannel == true && reader.TokenType == JsonTokenType.EndObject && !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
