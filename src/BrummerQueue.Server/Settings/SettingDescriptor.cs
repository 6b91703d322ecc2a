using System.Reflection;

namespace BrummerQueue.Server.Settings;

/// <summary>
/// One setting of brummerq: a property of <c>ServerOptions</c> or <c>QueueOptions</c> with its
/// command-line flag, environment variable and configuration key, all derived from the property name.
/// </summary>
/// <param name="Property">The options property the setting fills.</param>
/// <param name="ConfigKey">Configuration key, e.g. <c>Brummerq:Queue:ChannelCapacity</c> (appsettings.json path).</param>
/// <param name="Flag">Command-line flag, e.g. <c>--channel-capacity</c>; array settings use the singular and repeat.</param>
/// <param name="EnvironmentVariable">Environment variable, e.g. <c>BRUMMERQ_CHANNEL_CAPACITY</c>.</param>
/// <param name="DefaultText">The default, as text for <c>--help</c>.</param>
/// <param name="Description">The first sentence of the property's XML documentation.</param>
internal sealed record SettingDescriptor(
    PropertyInfo Property,
    string ConfigKey,
    string Flag,
    string EnvironmentVariable,
    string DefaultText,
    string Description)
{
    /// <summary>The property name, e.g. <c>ChannelCapacity</c>.</summary>
    public string Name => Property.Name;

    /// <summary>True for array settings (repeatable flag, comma-separated environment variable).</summary>
    public bool IsArray => Property.PropertyType.IsArray;

    /// <summary>Names every place the setting comes from, for error messages.</summary>
    public string Display => $"{Name} ({Flag}, {EnvironmentVariable}, {ConfigKey})";
}
