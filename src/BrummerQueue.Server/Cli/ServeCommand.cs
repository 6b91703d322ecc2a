using System.CommandLine;
using BrummerQueue.Server.Hosting;

namespace BrummerQueue.Server.Cli;

/// <summary><c>brummerq serve</c>: the HTTP host.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var host = new Option<string>("--host") { Description = "Address to listen on (BRUMMERQ_HOST)", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "TCP port (BRUMMERQ_PORT)", DefaultValueFactory = _ => 8080 };
        var command = new Command("serve", "Serve MCP at /mcp, the WebSocket, the HTTP API and the dashboard.") { host, port };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var args = new[]
            {
                $"--{ServerOptions.SectionName}:Host={parse.GetValue(host)}",
                $"--{ServerOptions.SectionName}:Port={parse.GetValue(port)}",
            };
            var app = BrummerHost.CreateBuilder(args).Build().MapEndpoints();
            await app.RunAsync(cancellationToken);
            return 0;
        });
        return command;
    }
}
