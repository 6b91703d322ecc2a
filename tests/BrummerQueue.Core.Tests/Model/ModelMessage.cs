namespace BrummerQueue.Core.Tests.Model;

internal sealed record ModelMessage(long Seq, long ExpiresAt, int Bytes)
{
    /// <summary>The channel it was sent to (a pattern subscription's messages come from several).</summary>
    public string Channel { get; init; } = "";

    /// <summary>The model's identity of the message (the engine's id), kept by its redelivered copies.</summary>
    public long Id { get; init; }

    /// <summary>The message's TTL in seconds (a dead letter keeps it).</summary>
    public int Ttl { get; init; }

    /// <summary>Leased deliveries that ended unacknowledged (<see cref="QueueMessage.DeliveryCount"/>).</summary>
    public int Deliveries { get; init; }
}
