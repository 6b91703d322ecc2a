namespace BrummerQueue.Core;

/// <summary>How to create a subscription.</summary>
public sealed record SubscribeOptions
{
    /// <summary>Buffer size, 1 to <see cref="QueueOptions.MaxSubscriptionBufferSize"/>; null means <see cref="QueueOptions.DefaultSubscriptionBufferSize"/>.</summary>
    public int? BufferSize { get; init; }

    /// <summary>When set, the retained backlog after this seq is copied into the buffer first (0 = all of it).</summary>
    public long? SinceSeq { get; init; }

    /// <summary>The epoch <see cref="SinceSeq"/> belongs to (SPEC.md §1 "Resume"); null when the client names none.</summary>
    public string? Epoch { get; init; }

    /// <summary>Who owns the subscription (a WebSocket, an MCP session); <see cref="IMessageQueue.UnsubscribeOwner"/> removes all of an owner's.</summary>
    public string? Owner { get; init; }
}
