namespace BrummerQueue.Server.Tests.Fuzz;

/// <summary>The face of the server a fuzz input is sent through.</summary>
public enum FuzzFace
{
    /// <summary>One WebSocket message (text or binary, possibly in fragments).</summary>
    WebSocket,

    /// <summary>One MCP tool call through the SDK's client.</summary>
    Mcp,

    /// <summary>One HTTP API request.</summary>
    Http,
}
