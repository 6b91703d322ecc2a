namespace BrummerQueue.Server.Mcp;

/// <summary>Event ids of the MCP layer's log messages, in one place (range 300–399).</summary>
internal static class McpLogEvents
{
    public const int ToolRefused = 300;
    public const int ToolFailed = 301;
    public const int ToolCancelled = 302;
    public const int RequestRefused = 303;
    public const int SessionStarted = 310;
    public const int SessionEnded = 311;
    public const int SessionRefused = 312;
    public const int EndedDuringRequest = 313;
    public const int NotificationFailed = 320;
    public const int LineRefused = 321;
    public const int ChannelEventFailed = 322;
    public const int ChannelPumpFailed = 323;
    public const int ProgressFailed = 324;
    public const int Attached = 330;
    public const int RemoteUnreachable = 331;
    public const int RemotePutBackFailed = 332;
    public const int RemoteRelayFailed = 333;
    public const int TookOver = 334;
    public const int Reattached = 335;
    public const int ListenUriLeftOut = 345;
}
