using System.Net;
using BrummerQueue.Server.Hosting;
using Microsoft.Extensions.Options;

namespace BrummerQueue.Server.Settings;

/// <summary>
/// Start-time rules for <see cref="ServerOptions"/>: the port is 0–65535, the host is an IP address
/// or <c>localhost</c>, and every other whole-number setting is at least 1 (a limit or an interval
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
}
