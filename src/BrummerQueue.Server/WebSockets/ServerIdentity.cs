using System.Reflection;

namespace BrummerQueue.Server.WebSockets;

/// <summary>
/// Who this server process is: its version and an id made at start. A client that reconnects and
/// sees a different <see cref="InstanceId"/> knows the server restarted (its subscriptions are gone);
/// whether messages are missing it learns per channel from the epoch of its resumed subscriptions.
/// </summary>
internal sealed class ServerIdentity
{
    public string InstanceId { get; } = Guid.CreateVersion7().ToString("N");

    public string Version { get; } = ReadVersion();

    private static string ReadVersion()
    {
        var version = typeof(ServerIdentity).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        var plus = version.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? version : version[..plus];
    }
}
