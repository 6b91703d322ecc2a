namespace BrummerQueue.Core;

/// <summary>How to create a subscription.</summary>
public sealed record SubscribeOptions
{
    /// <summary>Buffer size, 1 to <see cref="QueueOptions.MaxSubscriptionBufferSize"/>; null means <see cref="QueueOptions.DefaultSubscriptionBufferSize"/>.</summary>
    public int? BufferSize { get; init; }

    /// <summary>
    /// When set, the retained backlog after this seq is copied into the buffer first (0 = all of it), and
    /// <see cref="Subscription.Recovered"/> says whether anything in between is missing. At least 0; wire name <c>since_seq</c>.
    /// </summary>
    public long? SinceSeq { get; init; }

    /// <summary>
    /// The epoch <see cref="SinceSeq"/> belongs to (wire name <c>epoch</c>): the <see cref="Subscription.Epoch"/> or
    /// <see cref="ChannelInfo.Epoch"/> the client saw with that seq. Null means "not known" (clients older than
    /// epochs). When it is not the channel's current epoch the whole retained backlog is replayed and the
    /// subscription is not recovered; see <see cref="ChannelEpoch"/> for the rule. Refused with
    /// <see cref="QueueErrorCodes.InvalidArgument"/> naming <c>epoch</c> unless it is 1-32 characters of
    /// <c>a-z 0-9</c> and <see cref="SinceSeq"/> is given too.
    /// </summary>
    public string? Epoch { get; init; }

    /// <summary>Who owns the subscription (a WebSocket, an MCP session); <see cref="IMessageQueue.UnsubscribeOwner"/> removes all of an owner's.</summary>
    public string? Owner { get; init; }
}
