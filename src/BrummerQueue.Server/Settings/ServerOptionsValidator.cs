using System.Net;
using BrummerQueue.Server.Hosting;
using Microsoft.Extensions.Options;

namespace BrummerQueue.Server.Settings;

/// <summary>
/// Start-time rules for <see cref="ServerOptions"/>: the port is 0–65535, the host is an IP address
/// or <c>localhost</c>, each allowed origin is <c>scheme://host[:port]</c> (or <c>*</c>, or <c>null</c>), each
/// allowed host name is a host name (or <c>*</c>), a non-loopback host has a token unless InsecureNoToken is set, KeepAliveSeconds, IdleTimeoutSeconds and MinDataRateBytesPerSecond are at least 0 (0 turns them off), and every other whole-number setting is at least 1 (a limit or an interval
/// of zero would disable the server rather than configure it). Messages name the setting.
/// </summary>
internal sealed class ServerOptionsValidator : IValidateOptions<ServerOptions>
{
    public ValidateOptionsResult Validate(string? name, ServerOptions options)
    {
        var failures = new List<string>();
        foreach (var setting in SettingsCatalog.For(typeof(ServerOptions)))
        {
            var value = setting.Property.GetValue(options);
            switch (setting.Name)
            {
                case nameof(ServerOptions.Port):
                    if (options.Port is < 0 or > 65535)
                    {
                        failures.Add($"Invalid setting {setting.Display}: must be between 0 and 65535, not {options.Port}.");
                    }

                    break;
                case nameof(ServerOptions.Host):
                    if (!IPAddress.TryParse(options.Host, out _) && !string.Equals(options.Host, "localhost", StringComparison.OrdinalIgnoreCase))
                    {
                        failures.Add($"Invalid setting {setting.Display}: must be an IP address (e.g. 127.0.0.1, 0.0.0.0, ::1) or localhost, not '{options.Host}'.");
                    }
                    else if (!IsLoopback(options.Host) && string.IsNullOrEmpty(options.Token) && !options.InsecureNoToken)
                    {
                        failures.Add(
                            $"Refusing to serve on {options.Host} without a token: every machine that can reach it could read and send messages. " +
                            $"Set a token with --token or {SettingsCatalog.EnvironmentPrefix}TOKEN (clients then send it), " +
                            $"serve on 127.0.0.1 (the default), or pass --insecure-no-token ({SettingsCatalog.EnvironmentPrefix}INSECURE_NO_TOKEN=true) on a network you trust.");
                    }

                    break;
                case nameof(ServerOptions.AllowedOrigins):
                    failures.AddRange(options.AllowedOrigins.Where(o => !IsOrigin(o)).Select(o =>
                        $"Invalid setting {setting.Display}: '{o}' is not an origin; write scheme://host[:port] with http or https and no path (e.g. https://app.example.com), null for pages opened from files and sandboxed frames, or * for any."));
                    break;
                case nameof(ServerOptions.AllowedHostNames):
                    failures.AddRange(options.AllowedHostNames.Where(h => !IsHostName(h)).Select(h =>
                        $"Invalid setting {setting.Display}: '{h}' is not a host name; write a name without scheme or port (e.g. queue.example.com), or * for any."));
                    break;
                case nameof(ServerOptions.Store):
                    if (!string.Equals(options.Store, StoreKinds.Memory, StringComparison.OrdinalIgnoreCase) && !options.UsesRedis)
                    {
                        failures.Add($"Invalid setting {setting.Display}: must be {StoreKinds.Memory} or {StoreKinds.Redis}, not '{options.Store}'.");
                    }
                    else if (options.UsesRedis && string.IsNullOrWhiteSpace(options.Redis))
                    {
                        failures.Add($"Invalid setting {setting.Display}: {StoreKinds.Redis} needs the Redis to use: --redis HOST:PORT or {SettingsCatalog.EnvironmentPrefix}REDIS (a StackExchange.Redis configuration string).");
                    }

                    break;
                case nameof(ServerOptions.Redis):
                    if (!string.IsNullOrWhiteSpace(options.Redis) && !options.UsesRedis && string.Equals(options.Store, StoreKinds.Memory, StringComparison.OrdinalIgnoreCase))
                    {
                        failures.Add($"Invalid setting {setting.Display}: it is used only with --store {StoreKinds.Redis}; add --store {StoreKinds.Redis} ({SettingsCatalog.EnvironmentPrefix}STORE={StoreKinds.Redis}) to keep the queue in that Redis, or leave the Redis out to keep it in memory.");
                    }

                    break;
                case nameof(ServerOptions.KeepAliveSeconds) or nameof(ServerOptions.IdleTimeoutSeconds) or nameof(ServerOptions.MinDataRateBytesPerSecond):
                    if (Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture) < 0)
                    {
                        failures.Add($"Invalid setting {setting.Display}: must be at least 0 (0 turns it off), not {value}.");
                    }

                    break;
                default:
                    if (value is int or long && Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture) < 1)
                    {
                        failures.Add($"Invalid setting {setting.Display}: must be at least 1, not {value}.");
                    }

                    break;
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>True for <c>localhost</c> and loopback addresses (127.0.0.0/8, ::1): only this machine can connect.</summary>
    internal static bool IsLoopback(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    /// <summary>
    /// <c>*</c>, <c>null</c>, or <c>http(s)://host[:port]</c> with at most a trailing <c>/</c>: what a
    /// browser sends as <c>Origin</c>.
    /// </summary>
    private static bool IsOrigin(string text)
    {
        var origin = text.Trim();
        return origin == "*"
            || string.Equals(origin, Security.OriginPolicy.NullOrigin, StringComparison.OrdinalIgnoreCase)
            || (Uri.TryCreate(origin, UriKind.Absolute, out var uri)
                && uri.Scheme is "http" or "https"
                && uri.UserInfo.Length == 0
                && uri.Host.Length > 0
                && uri.AbsolutePath == "/"
                && uri.Query.Length == 0
                && uri.Fragment.Length == 0
                && !origin.EndsWith("//", StringComparison.Ordinal));
    }

    /// <summary><c>*</c>, or a DNS name or IP address (IPv6 with or without brackets), without scheme or port.</summary>
    private static bool IsHostName(string text)
    {
        var host = text.Trim();
        return host == "*" || Uri.CheckHostName(host.Trim('[', ']')) != UriHostNameType.Unknown;
    }
}
