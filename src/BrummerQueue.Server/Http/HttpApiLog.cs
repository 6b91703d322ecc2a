namespace BrummerQueue.Server.Http;

/// <summary>Log messages of the HTTP API (event ids 4200–4299).</summary>
internal static partial class HttpApiLog
{
    /// <summary>Event id of <see cref="ClientLeft"/>.</summary>
    public const int ClientLeftEventId = 4200;

    /// <summary>Logger category of the HTTP API's lines.</summary>
    public const string Category = "BrummerQueue.Server.Http.HttpApiEndpoints";

    [LoggerMessage(ClientLeftEventId, LogLevel.Debug, "HTTP API receive on {Channel} ended: the client left before it was answered")]
    public static partial void ClientLeft(ILogger logger, string channel);
}
