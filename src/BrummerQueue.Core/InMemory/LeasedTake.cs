namespace BrummerQueue.Core.InMemory;

/// <summary>The <see cref="ReceiveResult.Source"/> of a leased receive: the channel incarnation that holds the leases, for a put-back.</summary>
internal sealed record LeasedTake(ChannelState State);
