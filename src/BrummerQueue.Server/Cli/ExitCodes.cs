namespace BrummerQueue.Server.Cli;

/// <summary>
/// The exit codes of every <c>brummerq</c> command, one meaning each (README "Command line"). A rule gives one
/// code whichever side checks it: <c>--ttl 1.5</c> (refused by the parser) and <c>--ttl -1</c> (refused by the
/// server) both break the ttl rule and both exit <see cref="Usage"/>.
/// </summary>
internal static class ExitCodes
{
    /// <summary>The command did what it was asked (<c>tail</c> and the servers: stopped by Ctrl-C or SIGTERM).</summary>
    public const int Ok = 0;

    /// <summary>
    /// The command line was fine but the work failed: no brummerq reachable at the URL, another program answers
    /// there, the token was refused, the server refused for its own state (queue full, rate limit), the connection
    /// broke, or the port a server should bind is taken.
    /// </summary>
    public const int Failed = 1;

    /// <summary>
    /// What was typed breaks a rule: an unknown command or option, a missing argument, a value of the wrong form, a
    /// setting out of range, a payload that is not JSON, or an argument the server refused as invalid
    /// (<c>invalid_argument</c>, <c>message_too_large</c>).
    /// </summary>
    public const int Usage = 2;
}
