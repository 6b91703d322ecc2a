using System.Collections.Concurrent;

namespace BrummerQueue.Server.Tests.Fuzz;

/// <summary>What a fuzz run observed: every acknowledged message, every message a read handed over, and counts per face.</summary>
internal sealed class FuzzLedger
{
    /// <summary>Message id → channel of every message a reply acknowledged (WebSocket <c>ack</c>, MCP <c>queue_send</c>, HTTP 201).</summary>
    public ConcurrentDictionary<string, string> Acked { get; } = new();

    /// <summary>Ids of messages that appeared in a read reply (consuming or peek) on any face.</summary>
    public ConcurrentDictionary<string, byte> HandedOver { get; } = new();

    /// <summary>
    /// Channels that hold (or held) an acknowledged payload nested so deep that a reply carrying it is deeper than
    /// the SDK's client reads (<see cref="FuzzTarget.SdkClientPayloadDepth"/>); MCP reads them through a <see cref="Mcp.RawMcpSession"/>.
    /// </summary>
    public ConcurrentDictionary<string, byte> DeepChannels { get; } = new();

    /// <summary>Outcome counters, e.g. <c>ws sent</c>, <c>ws accepted</c>, <c>ws refused</c>, <c>ws close 1007</c>, <c>skipped lone-surrogate…</c>.</summary>
    public ConcurrentDictionary<string, long> Counts { get; } = new();

    public void Count(string what) => Counts.AddOrUpdate(what, 1, (_, n) => n + 1);

    public string Summary() => string.Join(", ", Counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key}: {c.Value}"));
}
