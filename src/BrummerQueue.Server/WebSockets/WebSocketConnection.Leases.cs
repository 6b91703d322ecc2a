using System.Text.Json;
using BrummerQueue.Core;
using BrummerQueue.Server.Protocol;

namespace BrummerQueue.Server.WebSockets;

/// <summary>
/// Acknowledged receive over the WebSocket (docs/protocol.md "Acknowledged receive"): <c>queue_receive</c> with
/// <c>ack_timeout</c> leases to this connection (released when it closes), and <c>queue_ack</c> answers <c>acked</c>.
/// </summary>
internal sealed partial class WebSocketConnection
{
    private static readonly string[] s_ackFields = ["channel", "message_ids"];

    /// <summary><c>queue_ack {channel, message_ids}</c> → <c>acked {acked, not_leased}</c>; only this connection's leases are acked.</summary>
    private void Ack(string? id, JsonElement data)
    {
        WireFields.RejectUnknown(data, s_ackFields);
        var channel = WireFields.RequireString(data, "channel", ChannelRule);
        var ids = LeaseJson.MessageIds(data.TryGetProperty("message_ids"u8, out var element) ? element : null);
        var result = _queue.Ack(channel, ids, Id);
        Reply(ServerFrames.Build("acked", id, result, static (w, r) =>
        {
            w.WriteNumber("acked"u8, r.Acked);
            w.WriteStartArray("not_leased"u8);
            foreach (var notLeased in r.NotLeased)
            {
                w.WriteStringValue(notLeased);
            }

            w.WriteEndArray();
        }));
    }
}
