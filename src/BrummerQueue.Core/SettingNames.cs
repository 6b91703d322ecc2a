using System.Text;

namespace BrummerQueue.Core;

/// <summary>
/// How brummerq names a setting (a property of <see cref="QueueOptions"/> or of the host's options) on its
/// command line and in its environment: <c>MaxChannels</c> is <c>--max-channels</c> and <c>BRUMMERQ_MAX_CHANNELS</c>.
/// The one place this naming rule lives; refusals of a limit use it to name the setting that raises the limit.
/// Thread-safe (pure functions).
/// </summary>
public static class SettingNames
{
    /// <summary>Prefix of every environment variable.</summary>
    public const string EnvironmentPrefix = "BRUMMERQ_";

    /// <summary><c>ChannelCapacity</c> → <c>channel-capacity</c>.</summary>
    public static string Kebab(string pascal) => Separate(pascal, '-').ToLowerInvariant();

    /// <summary><c>ChannelCapacity</c> → <c>CHANNEL_CAPACITY</c>.</summary>
    public static string ScreamingSnake(string pascal) => Separate(pascal, '_').ToUpperInvariant();

    /// <summary><c>ChannelCapacity</c> → <c>--channel-capacity</c>.</summary>
    public static string Flag(string setting) => "--" + Kebab(setting);

    /// <summary><c>ChannelCapacity</c> → <c>BRUMMERQ_CHANNEL_CAPACITY</c>.</summary>
    public static string EnvironmentVariable(string setting) => EnvironmentPrefix + ScreamingSnake(setting);

    /// <summary>
    /// The sentence a limit refusal ends with, naming the setting and how to raise it, e.g.
    /// <c>limit MaxChannels: raise it with --max-channels or BRUMMERQ_MAX_CHANNELS</c>.
    /// </summary>
    public static string RaiseHint(string setting) => $"limit {setting}: raise it with {Flag(setting)} or {EnvironmentVariable(setting)}";

    private static string Separate(string pascal, char separator)
    {
        var builder = new StringBuilder(pascal.Length + 4);
        for (var i = 0; i < pascal.Length; i++)
        {
            if (i > 0 && char.IsUpper(pascal[i]) && (char.IsLower(pascal[i - 1]) || (i + 1 < pascal.Length && char.IsLower(pascal[i + 1]))))
            {
                builder.Append(separator);
            }

            builder.Append(pascal[i]);
        }

        return builder.ToString();
    }
}
