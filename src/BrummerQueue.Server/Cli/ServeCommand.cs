using System.CommandLine;
using BrummerQueue.Server.Hosting;
using BrummerQueue.Server.Settings;

namespace BrummerQueue.Server.Cli;

/// <summary>
/// <c>brummerq serve</c>: the HTTP host. Every setting is a flag (see <see cref="SettingFlags"/>); once it listens it
/// prints the <see cref="StartupBanner"/> on stderr.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var command = new Command("serve", "Serve MCP at /mcp, the WebSocket, the HTTP API and the dashboard.");
        var flags = new SettingFlags(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = flags.ToConfiguration(parse);
            var settingsFile = SettingsFile.InWorkingDirectory();
            var error = parse.InvocationConfiguration.Error;
            WebApplication app;
            try
            {
                app = BrummerHost.CreateBuilder([], b =>
                {
                    b.Configuration.AddInMemoryCollection(settings);
                    HostRunner.QuietStartFailures(b.Logging);
                }, settingsFile).Build().MapEndpoints();
            }
            catch (Exception e) when (HostRunner.SettingsError(e) is { } message)
            {
                await error.WriteLineAsync("brummerq: " + message);
                return HostRunner.InvalidSettings;
            }

            await using (app)
            {
                using var banner = app.Lifetime.ApplicationStarted.Register(() => StartupBanner.Write(app.Services, settingsFile, error));
                return await HostRunner.RunAsync(app, error, cancellationToken);
            }
        });
        return command;
    }
}
