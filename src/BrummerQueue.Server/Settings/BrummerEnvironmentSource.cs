using System.Collections;

namespace BrummerQueue.Server.Settings;

/// <summary>
/// Maps <c>BRUMMERQ_*</c> environment variables to configuration keys, e.g. <c>BRUMMERQ_PORT</c> →
/// <c>Brummerq:Port</c> and <c>BRUMMERQ_CHANNEL_CAPACITY</c> → <c>Brummerq:Queue:ChannelCapacity</c>.
/// Added after appsettings.json and before command-line flags, which gives flag &gt; environment &gt;
/// appsettings.json &gt; default. Only names of known settings are read.
/// </summary>
internal sealed class BrummerEnvironmentSource : IConfigurationSource
{
    private readonly IDictionary _environment;

    public BrummerEnvironmentSource(IDictionary environment) => _environment = environment;

    public IConfigurationProvider Build(IConfigurationBuilder builder) => new Provider(_environment);

    private sealed class Provider : ConfigurationProvider
    {
        private readonly IDictionary _environment;

        public Provider(IDictionary environment) => _environment = environment;

        public override void Load()
        {
            var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            foreach (var setting in SettingsCatalog.All)
            {
                if (_environment[setting.EnvironmentVariable] is string value)
                {
                    data[setting.ConfigKey] = value;
                }
            }

            Data = data;
        }
    }
}
