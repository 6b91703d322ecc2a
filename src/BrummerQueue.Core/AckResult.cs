namespace BrummerQueue.Core;

/// <summary>
/// What <see cref="IMessageQueue.Ack"/> did: <paramref name="Acked"/> leased messages removed, and the ids that were not
/// out on lease to the caller (unknown, not leased, already acked, or leased again to another owner after the caller's
/// lease ended), in the order given. Not an error: the other ids are acked all the same.
/// </summary>
/// <param name="Acked">Messages acknowledged and removed (wire name <c>acked</c>).</param>
/// <param name="NotLeased">The ids not acked (wire name <c>not_leased</c>); empty when all were.</param>
public sealed record AckResult(int Acked, IReadOnlyList<string> NotLeased);
