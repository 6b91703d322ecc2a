using System.CommandLine;
using System.Net.Sockets;
using BrummerQueue.Server.Hosting;
using BrummerQueue.Server.Mcp;
using BrummerQueue.Server.Settings;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Server;

namespace BrummerQueue.Server.Cli;

/// <summary>
/// <c>brummerq mcp</c>: MCP over stdio for assistants that launch their servers. It also serves the
/// HTTP endpoints on the configured port so browsers share the assistant's queue; when a brummerq
/// already serves that port it attaches instead (tools act on that server's queue, see
/// <see cref="RemoteQueue"/>). stdout carries only MCP JSON-RPC: every log line goes to stderr.
/// </summary>
internal static class McpCommand
{
    private static readonly TimeSpan s_answerTimeout = TimeSpan.FromSeconds(1);

    public static Command Create()
    {
        var command = new Command("mcp", "MCP over stdio (for assistants that launch their servers), sharing the queue with the HTTP endpoints on --port; attaches to a brummerq already serving that port.");
        var flags = new SettingFlags(command);
        command.SetAction((parse, cancellationToken) => RunAsync(flags.ToConfiguration(parse), parse.InvocationConfiguration.Error, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(Dictionary<string, string?> settings, TextWriter error, CancellationToken cancellationToken)
    {
        using var loggerFactory = LoggerFactory.Create(ConfigureStderrLogging);
        ServerOptions server;
        try
        {
            var configuration = new ConfigurationBuilder()
                .SetBasePath(Directory.GetCurrentDirectory())
                .AddJsonFile("appsettings.json", optional: true)
                .Add(new BrummerEnvironmentSource(Environment.GetEnvironmentVariables()))
                .AddInMemoryCollection(settings)
                .Build();
            server = SettingsBinder.Bind<ServerOptions>(configuration);
        }
        catch (Exception e) when (HostRunner.SettingsError(e) is { } message)
        {
            await error.WriteLineAsync("brummerq: " + message);
            return HostRunner.InvalidSettings;
        }

        var baseAddress = PortProbe.BaseAddress(server.Host, server.Port);
        if (server.Port != 0)
        {
            var (occupant, detail) = await PortProbe.ProbeAsync(baseAddress, cancellationToken);
            switch (occupant)
            {
                case PortOccupant.Brummerq:
                    return await RunAttachedAsync(baseAddress, server.Token, loggerFactory, error, cancellationToken);
                case PortOccupant.Other:
                    return await RefuseAsync(server, detail, error);
            }
        }

        WebApplication app;
        try
        {
            app = BrummerHost.CreateBuilder([], b =>
            {
                b.Configuration.AddInMemoryCollection(settings);
                ConfigureStderrLogging(b.Logging);
            }).Build().MapEndpoints();
        }
        catch (Exception e) when (HostRunner.SettingsError(e) is { } message)
        {
            await error.WriteLineAsync("brummerq: " + message);
            return HostRunner.InvalidSettings;
        }

        await using (app)
        {
            try
            {
                await app.StartAsync(cancellationToken);
            }
            catch (Exception e) when (HostRunner.SettingsError(e) is { } message)
            {
                await error.WriteLineAsync("brummerq: " + message);
                return HostRunner.InvalidSettings;
            }
            catch (IOException e) when (e.InnerException is AddressInUseException || e.InnerException is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse })
            {
                // Another brummerq may have taken the port between the probe and the bind.
                var (occupant, detail) = await PortProbe.ProbeAsync(baseAddress, cancellationToken);
                return occupant == PortOccupant.Brummerq
                    ? await RunAttachedAsync(baseAddress, server.Token, loggerFactory, error, cancellationToken)
                    : await RefuseAsync(server, detail, error);
            }

            try
            {
                var options = app.Services.GetRequiredService<IOptions<McpServerOptions>>().Value;
                var appLogging = app.Services.GetRequiredService<ILoggerFactory>();
                await using var transport = StdioDrain.CreateTransport(options, appLogging, app.Services.GetRequiredService<SentPayloads>(), out var drain);
                await using var stdio = McpServer.Create(transport, options, appLogging, app.Services);

                // SIGTERM or Ctrl-C stops the host; its stopping signal ends waiting receives with an empty result
                // (HostStopping), and the stdio session ends once those answers are written.
                using var stdioStop = new CancellationTokenSource();
                using var onCancel = cancellationToken.Register(app.Lifetime.StopApplication);
                using var onStopping = app.Lifetime.ApplicationStopping.Register(() => _ = StopAfterAnswersAsync(drain, stdioStop));
                await stdio.RunAsync(stdioStop.Token);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested || app.Lifetime.ApplicationStopping.IsCancellationRequested)
            {
            }
            finally
            {
                app.Services.GetRequiredService<McpSessionRegistry>().End(McpSessionRegistry.StdioKey);
                await app.StopAsync(CancellationToken.None);
            }
        }

        return 0;
    }

    /// <summary>Ends the stdio session once the requests in flight are answered (at most <see cref="s_answerTimeout"/>).</summary>
    private static async Task StopAfterAnswersAsync(StdioDrain drain, CancellationTokenSource stdioStop)
    {
        await drain.WhenAnsweredAsync(s_answerTimeout);
        try
        {
            await stdioStop.CancelAsync();
        }
        catch (ObjectDisposedException)
        {
            // The session already ended (end of input).
        }
    }

    private static async Task<int> RunAttachedAsync(Uri baseAddress, string? token, ILoggerFactory loggerFactory, TextWriter error, CancellationToken cancellationToken)
    {
        await using var remote = new RemoteQueue(baseAddress, token, loggerFactory);
        try
        {
            await remote.ConnectAsync(cancellationToken);
        }
        catch (ModelContextProtocol.McpException e)
        {
            await error.WriteLineAsync("brummerq: " + e.Message);
            return 1;
        }

        var options = new McpServerOptions();
        remote.Configure(options);
        try
        {
            await using var transport = StdioDrain.CreateTransport(options, loggerFactory, remote.SentPayloads);
            await using var stdio = McpServer.Create(transport, options, loggerFactory);
            await stdio.RunAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        return 0;
    }

    private static async Task<int> RefuseAsync(ServerOptions server, string detail, TextWriter error)
    {
        await error.WriteLineAsync(
            $"brummerq: port {server.Port} on {server.Host} is in use by another program, not brummerq ({detail}). " +
            $"Choose a free port with --port or {SettingsCatalog.EnvironmentPrefix}PORT, and use the same port in every assistant that should share the queue.");
        return 1;
    }

    private static void ConfigureStderrLogging(ILoggingBuilder logging)
    {
        logging.ClearProviders();
        logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        logging.SetMinimumLevel(LogLevel.Information);

        // An assistant shows this stderr in its MCP log: keep per-request chatter of the SDK and ASP.NET Core out of it.
        logging.AddFilter("ModelContextProtocol", LogLevel.Warning);
        logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        HostRunner.QuietStartFailures(logging);

        // The forwarding client of attach mode: RemoteQueue reports each of its failures in one line;
        // the SDK's own log would repeat it with a stack trace.
        logging.AddFilter("ModelContextProtocol.Client", LogLevel.None);
    }
}
