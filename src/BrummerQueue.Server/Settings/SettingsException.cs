namespace BrummerQueue.Server.Settings;

/// <summary>A setting's value is malformed or out of range; the message names the setting, its flag, environment variable and key.</summary>
internal sealed class SettingsException : Exception
{
    public SettingsException(string message)
        : base(message)
    {
    }

    public SettingsException()
    {
    }

    public SettingsException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
