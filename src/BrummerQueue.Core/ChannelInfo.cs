namespace BrummerQueue.Core;

/// <summary>One row of <see cref="IMessageQueue.ListChannels"/>.</summary>
/// <param name="Name">Channel name.</param>
/// <param name="Epoch">The channel's current epoch (<see cref="ChannelEpoch"/>): changes each time the channel is created again.</param>
/// <param name="Messages">Unexpired messages in the backlog.</param>
/// <param name="Subscriptions">Open subscriptions.</param>
/// <param name="LastSeq">The seq of the newest message ever sent (0 if none).</param>
public sealed record ChannelInfo(string Name, string Epoch, int Messages, int Subscriptions, long LastSeq);
