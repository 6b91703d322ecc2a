namespace BrummerQueue.Redis;

/// <summary>What a leased channel receive took: the channel and the lease deadline (Unix ms) that names those leases, for a put-back.</summary>
internal sealed record LeaseSource(string Channel, long Deadline, IReadOnlyList<Guid> Ids);
