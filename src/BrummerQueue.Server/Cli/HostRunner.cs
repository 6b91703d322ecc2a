using System.Text.Json;
using BrummerQueue.Server.Settings;
using Microsoft.Extensions.Options;

namespace BrummerQueue.Server.Cli;

/// <summary>Runs a built host and turns a bad setting (or a broken appsettings.json) into one clear line on stderr and exit code 2.</summary>
internal static class HostRunner
{
    /// <summary>Exit code for a setting that failed validation.</summary>
    public const int InvalidSettings = ExitCodes.Usage;

    /// <summary>Starts <paramref name="host"/>, waits for shutdown, and returns the exit code; a start failure goes to <paramref name="error"/>.</summary>
    public static async Task<int> RunAsync(IHost host, TextWriter error, CancellationToken cancellationToken)
    {
        try
        {
            await host.RunAsync(cancellationToken);
            return 0;
        }
        catch (Exception e) when (SettingsError(e) is { } message)
        {
            await error.WriteLineAsync("brummerq: " + message);
            return InvalidSettings;
        }
        catch (Exception e) when (Find<Hosting.StoreUnreachableException>(e) is { } store)
        {
            await error.WriteLineAsync($"brummerq: cannot reach the Redis store (--redis, {SettingsCatalog.EnvironmentPrefix}REDIS): {store.Message}");
            return 1;
        }
        catch (IOException e) when (e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
        {
            await error.WriteLineAsync($"brummerq: {e.Message} Another program (or another brummerq) serves that port; choose one with --port or BRUMMERQ_PORT.");
            return ExitCodes.Failed;
        }
    }

    /// <summary>The user-facing message when <paramref name="e"/> is (or wraps) a settings error; otherwise null.</summary>
    public static string? SettingsError(Exception e) => e switch
    {
        SettingsException s => s.Message,
        InvalidDataException { InnerException: { } inner } file when Find<JsonException>(inner) is { } json => ConfigurationFileError(file, json),
        OptionsValidationException o => string.Join(Environment.NewLine, o.Failures),
        AggregateException a => a.InnerExceptions.Select(SettingsError).FirstOrDefault(m => m is not null),
        { InnerException: { } inner } => SettingsError(inner),
        _ => null,
    };

    /// <summary>
    /// Keeps the generic host's "Hosting failed to start" error (with its stack trace) out of the
    /// log: every start failure reaches <see cref="RunAsync"/> as an exception, which prints the known
    /// ones (bad setting, port in use) as one line and lets any other surface with its stack trace.
    /// </summary>
    public static void QuietStartFailures(ILoggingBuilder logging) =>
        logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);

    /// <summary>A configuration file that is not JSON: the file and the position, without the parser's internals.</summary>
    private static string ConfigurationFileError(InvalidDataException file, JsonException json)
    {
        // The configuration library's message is "Failed to load configuration from file '<path>'."
        var quoted = file.Message.Split('\'');
        var path = quoted.Length >= 3 ? quoted[1] : "appsettings.json";
        var detail = json.Message.Split(" LineNumber:", 2)[0].Split(" Path:", 2)[0].TrimEnd();
        return $"{path} is not valid JSON (at line {(json.LineNumber ?? 0) + 1}, byte {json.BytePositionInLine ?? 0}): {detail} Fix or remove the file.";
    }

    private static T? Find<T>(Exception? e)
        where T : Exception => e switch
        {
            null => null,
            T found => found,
            _ => Find<T>(e.InnerException),
        };
}
