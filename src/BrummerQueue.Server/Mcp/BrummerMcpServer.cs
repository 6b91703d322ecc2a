using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using BrummerQueue.Core;
using BrummerQueue.Server.Protocol;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace BrummerQueue.Server.Mcp;

/// <summary>
/// Wires brummerq's MCP server: the queue tools and the channel/subscription resources on the local
/// queue, served over Streamable HTTP at <c>/mcp</c> and, for <c>brummerq mcp</c>, over stdio with the same
/// options, in every revision of <see cref="ProtocolRevisions"/>: sessions (which own subscriptions and carry
/// <c>resources/subscribe</c> push) for 2025-11-25 and older, sessionless requests and <c>subscriptions/listen</c>
/// for 2026-07-28.
/// </summary>
internal static class BrummerMcpServer
{
    /// <summary>The MCP endpoint path.</summary>
    public const string Path = "/mcp";

    /// <summary>The name in <c>serverInfo</c> and <c>/healthz</c>.</summary>
    public const string Name = "brummerq";

    /// <summary>What the server tells the model about itself.</summary>
    public const string Instructions =
        "brummerq is a message queue shared with web apps (over a WebSocket) and other assistants. " +
        "Channels hold messages in order. queue_receive on a channel consumes (each message goes to one receiver; peek=true only looks); " +
        "queue_subscribe gives you a private copy of every new message, read with queue_receive {subscription_id}. " +
        "To wait for an event, call queue_receive with blocking=true and a timeout instead of polling. Reply with queue_send on another channel. " +
        "Messages of a subscription made with push=true (or brummerq mcp --wake) arrive by themselves as <channel> events: the body is the message JSON " +
        "(an array when several), attributes name channel, seq and subscription_id; a line 'and N more' means read the rest with queue_receive {subscription_id}. " +
        "Act on the event; answer with queue_send on a different channel (e.g. one the payload names), never the one it came from, or you wake yourself.";

    /// <summary>The version in <c>serverInfo</c> and <c>/healthz</c>.</summary>
    public static string Version { get; } =
        typeof(BrummerMcpServer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>Registers the MCP server on the local queue with the Streamable HTTP transport.</summary>
    public static IServiceCollection AddBrummerMcp(this IServiceCollection services)
    {
        services.AddSingleton<QueueTools>();
        services.AddSingleton<QueueResources>();
        services.AddSingleton(sp => new SentPayloads(sp.GetRequiredService<IMessageQueue>().Options));
        services.AddSingleton<McpSessionRegistry>();
        services.AddHttpContextAccessor();
        services.AddMcpServer(ConfigureLocal)
            .WithHttpTransport(http =>
            {
                http.SessionMode = HttpServerSessionMode.StatefulForInitializeClients;
#pragma warning disable MCPEXP002 // RunSessionHandler is experimental; it is the SDK's one hook that sees a session both start and end, which session-owned subscriptions need.
                http.RunSessionHandler = RunHttpSessionAsync;
#pragma warning restore MCPEXP002
            });
        return services;
    }

    /// <summary>
    /// Maps <c>/mcp</c>: each of the SDK's endpoints keeps a <c>queue_send</c> payload's bytes aside
    /// (<see cref="SentPayloads"/>) and runs behind <see cref="McpEndpointGuard"/>.
    /// </summary>
    public static IEndpointConventionBuilder MapBrummerMcp(this IEndpointRouteBuilder endpoints)
    {
        var builder = endpoints.MapMcp(Path);
        builder.Add(SentPayloads.SpliceHttpBody);
        builder.Add(endpoint => endpoint.RequestDelegate = GetStreamTracker.Wrap(endpoint.RequestDelegate
            ?? throw new InvalidOperationException("the MCP SDK maps /mcp without a request delegate; GetStreamTracker cannot wrap it")));
        builder.Add(endpoint => endpoint.RequestDelegate = McpEndpointGuard.Wrap(endpoint.RequestDelegate
            ?? throw new InvalidOperationException("the MCP SDK maps /mcp without a request delegate; McpEndpointGuard cannot wrap it")));
        return builder;
    }

    /// <summary>Server identity, capabilities and the handlers that act on the local queue.</summary>
    public static void ConfigureLocal(McpServerOptions options)
    {
        ConfigureIdentity(options);
        ReceiveDelivery.AddFilters(options);
        McpRequestFilters.Install(options);
        options.Handlers.SubscriptionsListenHandler = ResourceListen.HandleAsync;
        options.Handlers.ListToolsHandler = static (request, _) =>
            ValueTask.FromResult(new ListToolsResult { Tools = [.. request.Services!.GetRequiredService<QueueTools>().Definitions] });
        options.Handlers.CallToolHandler = static async (request, cancellationToken) =>
        {
            var services = request.Services!;
            var session = services.GetRequiredService<McpSessionRegistry>().Resolve(request);
            ReceiveDelivery.NoteReceiptRequest(request);

            // The client's token ends with the session or a notifications/cancelled (McpRequestFilters).
            // A client that gives up on the POST (closes it) can no longer receive the result, so that ends
            // the call too: a waiting receive then takes nothing instead of consuming a message nobody gets.
            var cancelled = McpRequestFilters.ClientCancellation(request, cancellationToken);
            var aborted = services.GetService<IHttpContextAccessor>()?.HttpContext?.RequestAborted ?? CancellationToken.None;
            using var linked = aborted.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancelled, aborted) : null;
            var token = linked?.Token ?? cancelled;
            var name = request.Params?.Name ?? string.Empty;
            try
            {
                var arguments = WithSentPayload(request, services);
                await using var keepAlive = ReceiveKeepAlive.Start(request, services.GetRequiredService<TimeProvider>(), services.GetRequiredService<ILogger<ReceiveKeepAlive>>(), token);
                var result = await services.GetRequiredService<QueueTools>().CallAsync(name, arguments, session, request.Items, token);
                return StructuredContentRelay.Defer(request, result);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return McpRequestFilters.Cancelled(request, name);
            }
        };
        options.Filters.Message.OutgoingFilters.Add(StructuredContentRelay.Filter);
        options.Handlers.ListResourceTemplatesHandler = static (_, _) => ValueTask.FromResult(QueueResources.Templates());
        options.Handlers.ListResourcesHandler = static (request, _) =>
        {
            var session = request.Services!.GetRequiredService<McpSessionRegistry>().Resolve(request);
            return ValueTask.FromResult(request.Services!.GetRequiredService<QueueResources>().List(session));
        };
        options.Handlers.CompleteHandler = static (request, _) =>
        {
            var session = request.Services!.GetRequiredService<McpSessionRegistry>().Resolve(request);
            return ValueTask.FromResult(request.Services!.GetRequiredService<QueueResources>().Complete(request.Params, session));
        };
        options.Handlers.ReadResourceHandler = static (request, _) =>
            ValueTask.FromResult(request.Services!.GetRequiredService<QueueResources>().Read(request.Params?.Uri));
        options.Handlers.SubscribeToResourcesHandler = static (request, _) =>
        {
            var registry = request.Services!.GetRequiredService<McpSessionRegistry>();
            var channel = request.Services!.GetRequiredService<QueueResources>().ChannelOf(request.Params?.Uri);
            var session = registry.Resolve(request)
                ?? throw new ModelContextProtocol.McpProtocolException("resources/subscribe needs a session: connect with the initialize handshake (protocol 2025-11-25 or earlier), or on 2026-07-28 use subscriptions/listen with resourceSubscriptions", ModelContextProtocol.McpErrorCode.InvalidRequest);
            registry.AddResource(session, request.Params!.Uri, channel);
            return ValueTask.FromResult(new EmptyResult());
        };
        options.Handlers.UnsubscribeFromResourcesHandler = static (request, _) =>
        {
            var registry = request.Services!.GetRequiredService<McpSessionRegistry>();
            if (registry.Resolve(request) is { } session && request.Params?.Uri is { } uri)
            {
                registry.RemoveResource(session, uri);
            }

            return ValueTask.FromResult(new EmptyResult());
        };
    }

    /// <summary>Name, version, instructions and capabilities (tools; resources with subscribe; experimental <c>claude/channel</c>), and every revision.</summary>
    public static void ConfigureIdentity(McpServerOptions options)
    {
        options.ServerInfo = new Implementation { Name = Name, Version = Version, Title = "brummerq message queue" };

        // ProtocolVersion stays unset: the SDK then speaks every revision it knows and answers in the client's
        // (ProtocolRevisions). Setting it would pin one revision and refuse every other client.
        ProtocolRevisions.AddInitializeFallback(options);
        options.ServerInstructions = Instructions;
        options.Capabilities ??= new ServerCapabilities();
        options.Capabilities.Tools = new ToolsCapability { ListChanged = false };
        options.Capabilities.Resources = new ResourcesCapability { Subscribe = true, ListChanged = false };

        // Claude Code channels: declaring it makes Claude Code listen for notifications/claude/channel (ChannelPush).
        options.Capabilities.Experimental ??= new Dictionary<string, object>();
        options.Capabilities.Experimental[ChannelEvent.Capability] = new JsonObject();
    }

    /// <summary>
    /// The call's arguments with <c>payload</c> as the sender wrote it (<see cref="SentPayloads"/>), when it
    /// was kept aside; the SDK's own copy of the arguments has it re-written (or, over HTTP, <c>null</c>).
    /// </summary>
    private static IDictionary<string, JsonElement>? WithSentPayload(RequestContext<CallToolRequestParams> request, IServiceProvider services)
    {
        var arguments = request.Params?.Arguments;
        if (request.JsonRpcMessage is not JsonRpcRequest call
            || !services.GetRequiredService<SentPayloads>().TryTake(call, services.GetService<IHttpContextAccessor>()?.HttpContext, out var sent))
        {
            return arguments;
        }

        var options = PayloadEnvelope.DocumentOptions(services.GetRequiredService<IMessageQueue>().Options);
        return new Dictionary<string, JsonElement>(arguments ?? new Dictionary<string, JsonElement>(), StringComparer.Ordinal)
        {
            ["payload"] = JsonElement.Parse(sent, options),
        };
    }

    private static async Task RunHttpSessionAsync(HttpContext context, McpServer server, CancellationToken cancellationToken)
    {
        var registry = context.RequestServices.GetRequiredService<McpSessionRegistry>();
        registry.Begin(server);
        try
        {
            await server.RunAsync(cancellationToken);
        }
        finally
        {
            registry.End(server.SessionId);
        }
    }
}
