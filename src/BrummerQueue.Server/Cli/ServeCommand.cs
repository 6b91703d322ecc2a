using System.CommandLine;
using BrummerQueue.Server.Hosting;

namespace BrummerQueue.Server.Cli;

/// <summary><c>brummerq serve</c>: the HTTP host. Every setting is a flag (see <see cref="SettingFlags"/>).</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var command = new Command("serve", "Serve MCP at /mcp, the WebSocket, the HTTP API and the dashboard.");
        var flags = new SettingFlags(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = flags.ToConfiguration(parse);
            WebApplication app;
            try
            {
                app = BrummerHost.CreateBuilder([], b =>
                {
                    b.Configuration.AddInMemoryCollection(settings);
                    HostRunner.QuietStartFailures(b.Logging);
                }).Build().MapEndpoints();
            }
            catch (Exception e) when (HostRunner.SettingsError(e) is { } message)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync("brummerq: " + message);
                return HostRunner.InvalidSettings;
            }

            await using (app)
            {
                return await HostRunner.RunAsync(app, parse.InvocationConfiguration.Error, cancellationToken);
            }
        });
        return command;
    }
}
