using System.CommandLine;
using System.Text.RegularExpressions;
using BrummerQueue.Server.Settings;

namespace BrummerQueue.Server.Cli;

/// <summary>
/// One command-line option per setting of <see cref="SettingsCatalog"/>, with its default and
/// environment variable in the help text. Only flags the user actually gave become configuration,
/// so an unset flag never hides an environment variable or appsettings.json value.
/// </summary>
internal sealed class SettingFlags
{
    // "Default 127.0.0.1 (loopback only)." up to the first period that ends a sentence.
    private static readonly Regex s_defaultSentence = new(@"(?<=^|\.\s)Default\b.*?\.(?=\s|$)\s*", RegexOptions.CultureInvariant);

    private readonly List<(SettingDescriptor Setting, Option Option)> _options = [];

    /// <summary>Adds every setting's option to <paramref name="command"/>.</summary>
    public SettingFlags(Command command)
    {
        foreach (var setting in SettingsCatalog.All)
        {
            var help = $"{HelpDescription(setting)} [default: {setting.DefaultText}] [env: {setting.EnvironmentVariable}] [appsettings: {setting.ConfigKey}]";
            Option option = setting.IsArray
                ? new Option<string[]>(setting.Flag) { Description = help + " (repeatable)", AllowMultipleArgumentsPerToken = false, HelpName = "value" }
                : new Option<string>(setting.Flag) { Description = help, HelpName = HelpName(setting), Arity = IsBool(setting) ? ArgumentArity.ZeroOrOne : ArgumentArity.ExactlyOne };
            option.Validators.Add(result =>
            {
                foreach (var token in result.Tokens)
                {
                    try
                    {
                        SettingValueParser.Parse(setting, token.Value);
                    }
                    catch (SettingsException e)
                    {
                        result.AddError(e.Message);
                    }
                }
            });
            command.Options.Add(option);
            _options.Add((setting, option));
        }
    }

    /// <summary>Configuration keys and values of the flags given on the command line.</summary>
    public Dictionary<string, string?> ToConfiguration(ParseResult parse)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (setting, option) in _options)
        {
            var result = parse.GetResult(option);
            if (result is null || result.Implicit)
            {
                continue;
            }

            if (result.Tokens.Count == 0)
            {
                // A switch given alone (--insecure-no-token) turns it on.
                if (IsBool(setting))
                {
                    values[setting.ConfigKey] = "true";
                }

                continue;
            }

            values[setting.ConfigKey] = string.Join(',', result.Tokens.Select(t => t.Value));
        }

        return values;
    }

    /// <summary>
    /// The setting's description without its "Default ..." sentence: the XML docs state the default for readers of the
    /// code, and the help shows it once, as <c>[default: ...]</c>, from the value itself.
    /// </summary>
    public static string HelpDescription(SettingDescriptor setting) =>
        s_defaultSentence.Replace(setting.Description, string.Empty).Trim();

    private static bool IsBool(SettingDescriptor setting) =>
        (Nullable.GetUnderlyingType(setting.Property.PropertyType) ?? setting.Property.PropertyType) == typeof(bool);

    private static string HelpName(SettingDescriptor setting)
    {
        var type = Nullable.GetUnderlyingType(setting.Property.PropertyType) ?? setting.Property.PropertyType;
        return type == typeof(TimeSpan) ? "seconds|hh:mm:ss"
            : type == typeof(int) || type == typeof(long) ? "int"
            : type == typeof(bool) ? "true|false"
            : "value";
    }
}
