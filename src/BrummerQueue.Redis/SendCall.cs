using BrummerQueue.Core;

namespace BrummerQueue.Redis;

/// <summary>
/// One send on its way to the send script: the checked message (its id, type, payload, ttl in whole seconds, and the
/// blob tail of <see cref="MessageBlob.Tail"/>; "now" in Unix ms) and, for an asynchronous send, the completion its
/// caller awaits. Made by <c>RedisMessageQueue.PrepareSend</c>, which has checked every rule.
/// </summary>
internal sealed class SendCall(string channel, Guid id, string type, JsonPayload payload, int ttl, long now, byte[] tail)
{
    public string Channel { get; } = channel;

    public Guid Id { get; } = id;

    public string Type { get; } = type;

    public JsonPayload Payload { get; } = payload;

    /// <summary>Whole seconds; 0 = never expires.</summary>
    public int Ttl { get; } = ttl;

    /// <summary>When the send was made, Unix ms: the message's timestamp.</summary>
    public long Now { get; } = now;

    /// <summary>When the message expires, Unix ms; 0 = never (the blob's <c>exp</c>).</summary>
    public long Expires => Ttl == 0 ? 0 : Now + (Ttl * 1000L);

    /// <summary>The blob after its seq (<see cref="MessageBlob.Tail"/>).</summary>
    public byte[] Tail { get; } = tail;

    public string? ReplyTo { get; init; }

    public string? CorrelationId { get; init; }

    /// <summary>Completed with the send's result or refusal once its batch is answered (continuations run on the pool).</summary>
    public TaskCompletionSource<SendResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
