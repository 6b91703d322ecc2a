using BrummerQueue.Core;
using BrummerQueue.Server.Hosting;
using Microsoft.Extensions.Options;

namespace BrummerQueue.Server.Settings;

/// <summary>
/// Fills <see cref="ServerOptions"/> and <see cref="QueueOptions"/> from configuration, one
/// <see cref="SettingDescriptor"/> at a time, so that every value goes through
/// <see cref="SettingValueParser"/> (seconds for TimeSpans, clear errors) and an array given as one
/// value (flag or environment variable) replaces the whole array from appsettings.json.
/// </summary>
internal static class SettingsBinder
{
    /// <summary>Registers both options types with binding and start-time validation.</summary>
    public static void AddBrummerSettings(this WebApplicationBuilder builder)
    {
        ((IConfigurationBuilder)builder.Configuration).Add(new BrummerEnvironmentSource(Environment.GetEnvironmentVariables()));
        builder.Services.AddOptions<ServerOptions>()
            .Configure<IConfiguration>((options, configuration) => Apply(options, configuration))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ServerOptions>, ServerOptionsValidator>();
        builder.Services.AddOptions<QueueOptions>()
            .Configure<IConfiguration>((options, configuration) => Apply(options, configuration))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<QueueOptions>, QueueOptionsValidator>();
    }

    /// <summary>Reads <typeparamref name="T"/> from <paramref name="configuration"/>; for code that runs before the container exists.</summary>
    public static T Bind<T>(IConfiguration configuration)
        where T : class, new()
    {
        var options = new T();
        Apply(options, configuration);
        return options;
    }

    /// <summary>Sets every property of <paramref name="options"/> that configuration holds a value for.</summary>
    /// <exception cref="SettingsException">A value does not fit its setting.</exception>
    public static void Apply(object options, IConfiguration configuration)
    {
        foreach (var setting in SettingsCatalog.For(options.GetType()))
        {
            var section = configuration.GetSection(setting.ConfigKey);
            string? text;
            if (section.Value is not null)
            {
                text = section.Value;
            }
            else if (setting.IsArray && section.GetChildren().Any())
            {
                text = string.Join(',', section.GetChildren().Select(c => c.Value).Where(v => !string.IsNullOrWhiteSpace(v)));
            }
            else
            {
                continue;
            }

            var value = SettingValueParser.Parse(setting, text);
            if (value is null && setting.Property.PropertyType.IsValueType && Nullable.GetUnderlyingType(setting.Property.PropertyType) is null)
            {
                continue;
            }

            // Init-only setters are ordinary setters to reflection; the record is not yet shared here.
            setting.Property.SetValue(options, value);
        }
    }
}
