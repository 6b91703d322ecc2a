using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace BrummerQueue.Server.Mcp;

/// <summary>
/// The MCP revisions brummerq speaks, in one place: every one the SDK (ModelContextProtocol 2.4.0) implements.
/// The SDK negotiates them when <see cref="McpServerOptions.ProtocolVersion"/> is left unset: <c>initialize</c>
/// answers the client's revision (2024-11-05 … 2025-11-25, with a session over Streamable HTTP), and 2026-07-28
/// requests carry the revision, client info and capabilities in each request's <c>_meta</c>
/// (<c>server/discover</c>, no session). Stateless and thread-safe.
/// </summary>
internal static class ProtocolRevisions
{
    /// <summary>The newest revision with the <c>initialize</c> handshake and Streamable HTTP sessions.</summary>
    public const string NewestWithSessions = "2025-11-25";

    /// <summary>The first revision without sessions: requests carry their revision in <c>_meta</c>.</summary>
    public const string Sessionless = "2026-07-28";

    /// <summary>Every revision served, oldest first.</summary>
    public static IReadOnlyList<string> All { get; } = ["2024-11-05", "2025-03-26", "2025-06-18", NewestWithSessions, Sessionless];

    /// <summary>Whether <paramref name="revision"/> (an <c>MCP-Protocol-Version</c> value) is 2026-07-28 or later: no session (the SDK's rule, an ordinal date comparison).</summary>
    public static bool IsSessionless(string? revision) =>
        !string.IsNullOrEmpty(revision) && string.CompareOrdinal(revision, Sessionless) >= 0;

    /// <summary>
    /// Adds the incoming filter that answers an <c>initialize</c> asking for a revision brummerq does not know with
    /// the newest one the handshake has (<see cref="NewestWithSessions"/>), as MCP requires ("the server MUST
    /// respond with another protocol version it supports … SHOULD be the latest"). The SDK does so for unknown
    /// revisions older than 2026-07-28 but refuses later ones (a client from the future) with an error.
    /// </summary>
    public static void AddInitializeFallback(McpServerOptions options) =>
        options.Filters.Message.IncomingFilters.Add(next => (context, cancellationToken) =>
        {
            if (context.JsonRpcMessage is JsonRpcRequest { Method: RequestMethods.Initialize, Params: JsonObject parameters }
                && parameters["protocolVersion"] is JsonValue requested
                && requested.TryGetValue<string>(out var revision)
                && !All.Contains(revision, StringComparer.Ordinal)
                && IsSessionless(revision)
                && !IsSessionless(context.JsonRpcMessage.Context?.ProtocolVersion))
            {
                parameters["protocolVersion"] = NewestWithSessions;
            }

            return next(context, cancellationToken);
        });
}
