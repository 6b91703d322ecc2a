namespace BrummerQueue.Core.InMemory;

/// <summary>
/// Every channel of the map sorted by name (ordinal), tagged with the channel-set version it was built
/// for. Immutable; stats reuse it until a channel is added or removed, so a stats call neither enumerates
/// the map nor sorts. It may include channels that were removed since, or that are not listed yet:
/// readers check <see cref="ChannelState.IsRemoved"/> and <see cref="ChannelState.IsListed"/>.
/// </summary>
internal sealed class SortedChannels(int version, ChannelState[] channels)
{
    public static SortedChannels Empty { get; } = new(-1, []);

    public int Version { get; } = version;

    public ChannelState[] Channels { get; } = channels;
}
