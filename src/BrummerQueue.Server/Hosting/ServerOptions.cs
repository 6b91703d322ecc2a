namespace BrummerQueue.Server.Hosting;

/// <summary>
/// Settings of the HTTP host. Bound from the configuration section <c>Brummerq</c>
/// (appsettings.json), <c>BRUMMERQ_*</c> environment variables and command-line flags.
/// </summary>
public sealed record ServerOptions
{
    public const string SectionName = "Brummerq";

    /// <summary>Address to listen on. Default 127.0.0.1 (loopback only).</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>TCP port. Default 8080.</summary>
    public int Port { get; init; } = 8080;
}
