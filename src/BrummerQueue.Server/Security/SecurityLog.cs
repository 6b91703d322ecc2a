namespace BrummerQueue.Server.Security;

/// <summary>Log messages of the request guard (event ids 4300–4399).</summary>
internal static partial class SecurityLog
{
    [LoggerMessage(4300, LogLevel.Warning, "Refused Host '{Host}' for {Path} (DNS-rebinding protection)")]
    public static partial void HostRefused(ILogger logger, string host, string path);

    [LoggerMessage(4301, LogLevel.Warning, "Refused Origin '{Origin}' for {Path}")]
    public static partial void OriginRefused(ILogger logger, string origin, string path);
}
