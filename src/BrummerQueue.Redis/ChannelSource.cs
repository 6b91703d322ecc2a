namespace BrummerQueue.Redis;

/// <summary>What a channel receive took from: the channel and its epoch (the incarnation), for a put-back.</summary>
internal sealed record ChannelSource(string Channel, string Epoch);
