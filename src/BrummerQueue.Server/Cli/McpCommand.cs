using System.CommandLine;
using System.Net.Sockets;
using BrummerQueue.Server.Hosting;
using BrummerQueue.Server.Mcp;
using BrummerQueue.Server.Settings;
using BrummerQueue.Server.WebSockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Server;

namespace BrummerQueue.Server.Cli;

/// <summary>
/// <c>brummerq mcp</c>: MCP over stdio for assistants that launch their servers. It also serves the
/// HTTP endpoints on the configured port so browsers share the assistant's queue; when a brummerq
/// already serves that port it attaches instead (tools act on that server's queue, see
/// <see cref="RemoteQueue"/>), and takes over hosting on that port when that server exits (the hosting hand-over,
/// <see cref="TryHostAsync"/>). stdout carries only MCP JSON-RPC: every log line goes to stderr.
/// </summary>
internal static class McpCommand
{
    private static readonly TimeSpan s_answerTimeout = TimeSpan.FromSeconds(1);

    public static Command Create()
    {
        var command = new Command("mcp", "MCP over stdio (for assistants that launch their servers), sharing the queue with the HTTP endpoints on --port; attaches to a brummerq already serving that port.");
        var flags = new SettingFlags(command);
        var wake = new Option<string[]>("--wake")
        {
            Description = "Subscribe this MCP client to CHANNEL at start and send it each message as a notifications/claude/channel event (Claude Code channels); repeatable",
            HelpName = "CHANNEL",
            AllowMultipleArgumentsPerToken = false,
        };
        command.Options.Add(wake);
        command.SetAction((parse, cancellationToken) => RunAsync(flags.ToConfiguration(parse), parse.GetValue(wake) ?? [], parse.InvocationConfiguration.Error, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(Dictionary<string, string?> settings, string[] wake, TextWriter error, CancellationToken cancellationToken)
    {
        using var loggerFactory = LoggerFactory.Create(ConfigureStderrLogging);
        var settingsFile = SettingsFile.InWorkingDirectory();
        ServerOptions server;
        try
        {
            server = SettingsBinder.Bind<ServerOptions>(settingsFile.BuildConfiguration(Environment.GetEnvironmentVariables(), settings));
        }
        catch (Exception e) when (HostRunner.SettingsError(e) is { } message)
        {
            await error.WriteLineAsync("brummerq: " + message);
            return HostRunner.InvalidSettings;
        }

        var baseAddress = PortProbe.BaseAddress(server.Host, server.Port);
        if (server.Port != 0)
        {
            var (occupant, detail, hostStore) = await PortProbe.ProbeAsync(baseAddress, cancellationToken);
            switch (occupant)
            {
                case PortOccupant.Brummerq:
                    return await RunAttachedAsync(baseAddress, hostStore, server, wake, settings, loggerFactory, error, cancellationToken);
                case PortOccupant.Other:
                    return await RefuseAsync(server, detail, error);
            }
        }

        WebApplication app;
        try
        {
            app = BuildHost(settings);
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
            catch (IOException e) when (IsAddressInUse(e))
            {
                // Another brummerq may have taken the port between the probe and the bind.
                var (occupant, detail, hostStore) = await PortProbe.ProbeAsync(baseAddress, cancellationToken);
                return occupant == PortOccupant.Brummerq
                    ? await RunAttachedAsync(baseAddress, hostStore, server, wake, settings, loggerFactory, error, cancellationToken)
                    : await RefuseAsync(server, detail, error);
            }

            await error.WriteLineAsync(
                $"brummerq: MCP on stdio, hosting the queue on {StartupBanner.BaseAddress(app.Services)} (dashboard /, MCP {BrummerMcpServer.Path}, " +
                $"WebSocket {WebSocketEndpoint.Path}); settings: {settingsFile.Describe()}");

            try
            {
                var options = app.Services.GetRequiredService<IOptions<McpServerOptions>>().Value;
                var appLogging = app.Services.GetRequiredService<ILoggerFactory>();
                await using var transport = StdioDrain.CreateTransport(options, appLogging, app.Services.GetRequiredService<SentPayloads>(), out var drain);
                await using var stdio = McpServer.Create(transport, options, appLogging, app.Services);
                if (Wake(app.Services, stdio, wake) is { } refused)
                {
                    await error.WriteLineAsync("brummerq: " + refused);
                    return HostRunner.InvalidSettings;
                }

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

    /// <summary>
    /// <c>--wake</c> in hosting mode: subscribes the stdio session to each channel now (messages sent from now on are kept)
    /// and sends them as channel events once the client has initialized. Returns the refusal of a bad channel name.
    /// </summary>
    private static string? Wake(IServiceProvider services, McpServer stdio, string[] channels)
    {
        if (channels.Length == 0)
        {
            return null;
        }

        var registry = services.GetRequiredService<McpSessionRegistry>();
        var queue = services.GetRequiredService<BrummerQueue.Core.IMessageQueue>();
        var session = registry.Stdio(stdio);
        foreach (var channel in channels.Distinct(StringComparer.Ordinal))
        {
            BrummerQueue.Core.Subscription subscription;
            try
            {
                subscription = queue.Subscribe(channel, new BrummerQueue.Core.SubscribeOptions { Owner = session.Owner });
            }
            catch (BrummerQueue.Core.QueueException e)
            {
                return "--wake " + channel + ": " + e.Message;
            }

            session.AddSubscription(subscription.Id);
            registry.StartPush(session, subscription, open: false);
        }

        stdio.RegisterNotificationHandler(ModelContextProtocol.Protocol.NotificationMethods.InitializedNotification, (_, _) =>
        {
            session.Push?.Open();
            return ValueTask.CompletedTask;
        });
        return null;
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

    /// <summary>The host of a hosting <c>brummerq mcp</c>: the queue and the HTTP endpoints, logging to stderr.</summary>
    private static WebApplication BuildHost(Dictionary<string, string?> settings) =>
        BrummerHost.CreateBuilder([], b =>
        {
            b.Configuration.AddInMemoryCollection(settings);
            ConfigureStderrLogging(b.Logging);
        }).Build().MapEndpoints();

    private static bool IsAddressInUse(IOException e) =>
        e.InnerException is AddressInUseException || e.InnerException is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse };

    /// <summary>
    /// The hosting hand-over of an attached process (<see cref="RemoteQueue"/>): builds and starts the same host a hosting
    /// <c>brummerq mcp</c> starts. Returns null when the port is taken (another process bound it first: binding is the lock).
    /// </summary>
    private static async Task<WebApplication?> TryHostAsync(Dictionary<string, string?> settings, CancellationToken cancellationToken)
    {
        var app = BuildHost(settings);
        try
        {
            await app.StartAsync(cancellationToken);
            return app;
        }
        catch (IOException e) when (IsAddressInUse(e))
        {
            await StopQuietlyAsync(app);
            return null;
        }
        catch
        {
            await StopQuietlyAsync(app);
            throw;
        }
    }

    /// <summary>
    /// Stops a host whose start failed half way, then disposes it. Stopping first ends the background services it had
    /// started (the sweeper) as a stop, not as a fault: disposing alone cancels them, and the host logs that as a
    /// critical "BackgroundService has thrown an unhandled exception" (the loser of a hand-over race saw it).
    /// </summary>
    private static async Task StopQuietlyAsync(WebApplication app)
    {
        try
        {
            await app.StopAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException or IOException)
        {
            // Nothing more to stop.
        }

        await app.DisposeAsync();
    }

    private static async Task<int> RunAttachedAsync(Uri baseAddress, string? hostStore, ServerOptions server, string[] wake, Dictionary<string, string?> settings, ILoggerFactory loggerFactory, TextWriter error, CancellationToken cancellationToken)
    {
        if (server.UsesRedis && hostStore == StoreKinds.Memory)
        {
            // Attaching would act on that server's memory queue, not on the Redis this process was given.
            await error.WriteLineAsync(
                $"brummerq: the brummerq serving {baseAddress} keeps its queue in memory, but this 'brummerq mcp' was given --store {StoreKinds.Redis}; " +
                $"attaching would act on that memory queue. Stop that server (or start it with --store {StoreKinds.Redis}), or choose another port with --port or {SettingsCatalog.EnvironmentPrefix}PORT.");
            return 1;
        }

        await using var remote = new RemoteQueue(baseAddress, server.Token, loggerFactory, ct => TryHostAsync(settings, ct)) { StoreOutlivesHost = server.UsesRedis };
        try
        {
            await remote.ConnectAsync(cancellationToken);
        }
        catch (ModelContextProtocol.McpException e)
        {
            await error.WriteLineAsync("brummerq: " + e.Message);
            return 1;
        }

        // RemoteQueue has logged what this process attached to; the settings that pointed it there:
        await error.WriteLineAsync($"brummerq: settings: {SettingsFile.InWorkingDirectory().Describe()}");

        var options = new McpServerOptions();
        remote.Configure(options);
        try
        {
            await using var transport = StdioDrain.CreateTransport(options, loggerFactory, remote.SentPayloads);
            await using var stdio = McpServer.Create(transport, options, loggerFactory);
            string? refused;
            try
            {
                refused = await remote.StartRelayAsync(stdio, wake, cancellationToken);
            }
            catch (ModelContextProtocol.McpException e)
            {
                refused = e.Message;
            }

            if (refused is not null)
            {
                await error.WriteLineAsync("brummerq: " + refused);
                return HostRunner.InvalidSettings;
            }

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

        // No "Now listening on", "Application started. Press Ctrl+C", "Hosting environment", "Content root path" in the
        // assistant's log: the assistant, not a person at a terminal, starts and stops this process. One brummerq line
        // says what it serves instead.
        logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        logging.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);

        // The SDK's stream transport (subclassed here) logs "transport reading messages" and the like at Information.
        logging.AddFilter(typeof(PayloadDepthStreamTransport).FullName, LogLevel.Warning);
        HostRunner.QuietStartFailures(logging);

        // The forwarding client of attach mode: RemoteQueue reports each of its failures in one line;
        // the SDK's own log would repeat it with a stack trace.
        logging.AddFilter("ModelContextProtocol.Client", LogLevel.None);
    }
}
