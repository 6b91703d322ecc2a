namespace BrummerQueue.Server.Security;

/// <summary>
/// Log messages of the request guard (event ids 4300–4399). A refused Host or Origin is a client's request that
/// the settings do not allow, not a server fault: one Information line naming the setting that would allow it.
/// </summary>
internal static partial class SecurityLog
{
    [LoggerMessage(4300, LogLevel.Information, "Refused Host '{Host}' for {Path} (DNS-rebinding protection); to accept that name, start brummerq with {Allow}")]
    public static partial void HostRefused(ILogger logger, string host, string path, string allow);

    [LoggerMessage(4301, LogLevel.Information, "Refused Origin '{Origin}' for {Path}; to allow pages from it, start brummerq with {Allow}")]
    public static partial void OriginRefused(ILogger logger, string origin, string path, string allow);
}
