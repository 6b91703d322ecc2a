using BrummerQueue.Server.Settings;
using Microsoft.Extensions.Options;

namespace BrummerQueue.Server.Cli;

/// <summary>Runs a built host and turns a bad setting into one clear line on stderr and exit code 2.</summary>
internal static class HostRunner
{
    /// <summary>Exit code for a setting that failed validation.</summary>
    public const int InvalidSettings = 2;

    /// <summary>Starts <paramref name="host"/>, waits for shutdown, and returns the exit code.</summary>
    public static async Task<int> RunAsync(IHost host, CancellationToken cancellationToken)
    {
        try
        {
            await host.RunAsync(cancellationToken);
            return 0;
        }
        catch (Exception e) when (SettingsError(e) is { } message)
        {
            await Console.Error.WriteLineAsync("brummerq: " + message);
            return InvalidSettings;
        }
        catch (IOException e) when (e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
        {
            await Console.Error.WriteLineAsync($"brummerq: {e.Message} Another program (or another brummerq) serves that port; choose one with --port or BRUMMERQ_PORT.");
            return 1;
        }
    }

    /// <summary>The user-facing message when <paramref name="e"/> is (or wraps) a settings error; otherwise null.</summary>
    public static string? SettingsError(Exception e) => e switch
    {
        SettingsException s => s.Message,
        OptionsValidationException o => string.Join(Environment.NewLine, o.Failures),
        AggregateException a => a.InnerExceptions.Select(SettingsError).FirstOrDefault(m => m is not null),
        { InnerException: { } inner } => SettingsError(inner),
        _ => null,
    };
}
