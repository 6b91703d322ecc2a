namespace BrummerQueue.Server.Mcp;

/// <summary>What answers on the port <c>brummerq mcp</c> wants to serve.</summary>
internal enum PortOccupant
{
    /// <summary>Nothing listens: host the queue here.</summary>
    Free,

    /// <summary>A brummerq answers <c>/healthz</c>: attach to it.</summary>
    Brummerq,

    /// <summary>Another program listens: refuse with a clear message.</summary>
    Other,
}
