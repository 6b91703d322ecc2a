using System.Globalization;

namespace BrummerQueue.Server.Settings;

/// <summary>
/// Converts setting text (from a flag, an environment variable or appsettings.json) to the
/// property's type, with an error naming the setting and the expected form. TimeSpan settings
/// take whole or fractional seconds (<c>30</c>, <c>0.5</c>) or a TimeSpan (<c>00:10:00</c>).
/// </summary>
internal static class SettingValueParser
{
    /// <summary>Parses <paramref name="text"/> for <paramref name="setting"/>.</summary>
    /// <exception cref="SettingsException">The text does not fit the setting's type.</exception>
    public static object? Parse(SettingDescriptor setting, string? text)
    {
        var type = Nullable.GetUnderlyingType(setting.Property.PropertyType) ?? setting.Property.PropertyType;
        text = text?.Trim();
        if (type == typeof(string))
        {
            return string.IsNullOrEmpty(text) ? null : text;
        }

        if (type == typeof(string[]))
        {
            return (text ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }

        if (type == typeof(int) && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i))
        {
            return i;
        }

        if (type == typeof(long) && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l))
        {
            return l;
        }

        if (type == typeof(double) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
        {
            return d;
        }

        if (type == typeof(bool) && bool.TryParse(text, out var b))
        {
            return b;
        }

        if (type == typeof(TimeSpan))
        {
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && double.IsFinite(seconds) && Math.Abs(seconds) < TimeSpan.MaxValue.TotalSeconds)
            {
                return TimeSpan.FromSeconds(seconds);
            }

            if (text is not null && text.Contains(':', StringComparison.Ordinal) && TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span))
            {
                return span;
            }
        }

        if (type.IsEnum && Enum.TryParse(type, text, ignoreCase: true, out var value))
        {
            return value;
        }

        throw new SettingsException($"Invalid setting {setting.Display}: '{text}' is not {Expected(type)}.");
    }

    private static string Expected(Type type) =>
        type == typeof(int) || type == typeof(long) ? "an integer"
        : type == typeof(double) ? "a number"
        : type == typeof(bool) ? "true or false"
        : type == typeof(TimeSpan) ? "a number of seconds (e.g. 30) or a TimeSpan (e.g. 00:10:00)"
        : type.IsEnum ? "one of " + string.Join(", ", Enum.GetNames(type))
        : "a valid " + type.Name;
}
