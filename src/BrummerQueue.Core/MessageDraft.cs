namespace BrummerQueue.Core;

/// <summary>What a sender supplies for a new message; the queue adds id, seq and timestamps.</summary>
/// <param name="Type">Message type, 1–128 characters; null means <c>"message"</c>.</param>
/// <param name="Payload">Any JSON value; default JSON null.</param>
/// <param name="TtlSeconds">Time to live in whole seconds; null means the server default, 0 means never expire.</param>
public readonly record struct MessageDraft(string? Type = null, JsonPayload Payload = default, long? TtlSeconds = null)
{
    /// <summary>Request/reply: the channel a responder answers on (a channel name; docs/protocol.md "Request/reply"); null for none.</summary>
    public string? ReplyTo { get; init; }

    /// <summary>Request/reply: 1–128 characters, no control characters; a reply carries its request's id here. Null for none.</summary>
    public string? CorrelationId { get; init; }
}
