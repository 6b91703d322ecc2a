using BrummerQueue.Core;
using Microsoft.Extensions.Options;

namespace BrummerQueue.Server.Settings;

/// <summary>Start-time check of <see cref="QueueOptions"/> with the engine's own rules, reported with the setting's flag, variable and key.</summary>
internal sealed class QueueOptionsValidator : IValidateOptions<QueueOptions>
{
    public ValidateOptionsResult Validate(string? name, QueueOptions options)
    {
        try
        {
            options.Validate();
            return ValidateOptionsResult.Success;
        }
        catch (ArgumentOutOfRangeException e)
        {
            var setting = SettingsCatalog.For(typeof(QueueOptions)).FirstOrDefault(s => s.Name == e.ParamName);
            var rule = e.Message.Split(" (Parameter", 2)[0];
            return ValidateOptionsResult.Fail(setting is null ? rule : $"Invalid setting {setting.Display}: {rule}");
        }
    }
}
