namespace BrummerQueue.Core;

/// <summary>
/// One open subscription in <see cref="QueueStats.Subscriptions"/>: when it was made and last read, what it holds,
/// and when the idle limit (<see cref="QueueOptions.SubscriptionIdleTimeout"/>) lets cleanup remove it. Lets a user
/// tell a live reader from a client that left without unsubscribing (an MCP client that never ends its session).
/// </summary>
/// <param name="Id">The subscription id.</param>
/// <param name="Channel">The channel it listens to.</param>
/// <param name="Owner">The owner tag given at creation (a WebSocket connection, an MCP session), or null for none.</param>
/// <param name="CreatedAt">When it was made (UTC, millisecond precision).</param>
/// <param name="LastReadAt">
/// When it was last read, or a wait on it began or ended (UTC, millisecond precision); <see cref="CreatedAt"/> until then.
/// A push subscription (WebSocket, MCP push) is read by the server as messages arrive.
/// </param>
/// <param name="Buffered">Messages waiting in its buffer now (expired ones included until a read or wait prunes them).</param>
/// <param name="Dropped">Messages it lost since its last read (full buffer or expiry), reported by the next read.</param>
/// <param name="Reading">True while a reader waits on it (a blocking receive, a push loop): such a subscription is never idle.</param>
/// <param name="IdleExpiresAt">
/// When it becomes idle and the next cleanup sweep removes it, unless it is read before: <see cref="LastReadAt"/> plus the
/// idle limit; null while <paramref name="Reading"/>. Its owner's end (a closed WebSocket, an ended MCP session) removes it sooner.
/// </param>
public sealed record SubscriptionStats(
    string Id,
    string Channel,
    string? Owner,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastReadAt,
    int Buffered,
    long Dropped,
    bool Reading,
    DateTimeOffset? IdleExpiresAt);
