namespace BrummerQueue.Server.Mcp;

/// <summary>
/// What an attached <c>brummerq mcp</c> says once, in its next tool result, after a hosting hand-over:
/// <paramref name="Message"/> for the model, the <paramref name="Url"/> of the port handed over, and whether this process
/// now hosts the queue (<paramref name="HostedHere"/>) or attached to the process that took it over.
/// </summary>
internal sealed record HandOverNotice(string Message, Uri Url, bool HostedHere);
