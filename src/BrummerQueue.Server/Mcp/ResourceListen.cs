using System.Text.Json;
using System.Text.Json.Nodes;
using BrummerQueue.Server.Hosting;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace BrummerQueue.Server.Mcp;

/// <summary>
/// <c>subscriptions/listen</c>, the push of the 2026-07-28 revision (it replaces <c>resources/subscribe</c>): the
/// client names the resources it wants to follow in <c>resourceSubscriptions</c>; brummerq acknowledges the ones it
/// knows (<c>notifications/subscriptions/acknowledged</c>: channel and subscription URIs; others are left out) and
/// then sends <c>notifications/resources/updated</c> for each of them on the request's own stream, tagged with the
/// listen request's id in <c>_meta["io.modelcontextprotocol/subscriptionId"]</c>, until the client cancels the
/// request (closes the POST over HTTP, <c>notifications/cancelled</c> over stdio) or the host stops.
/// The SDK (2.4.0) has the request and its acknowledgement but no source of resource updates: its built-in handler
/// only fans out <c>*/list_changed</c>, and over stateless HTTP acknowledges nothing and returns. So brummerq sets
/// <see cref="McpServerHandlers.SubscriptionsListenHandler"/>, the SDK's hook for exactly this. Stateless and thread-safe.
/// </summary>
internal static partial class ResourceListen
{
    /// <summary>The handler on the local queue (hosting server, HTTP and stdio).</summary>
    public static async ValueTask<EmptyResult> HandleAsync(RequestContext<SubscriptionsListenRequestParams> request, CancellationToken handlerToken)
    {
        var services = request.Services!;
        var registry = services.GetRequiredService<McpSessionRegistry>();
        var resources = services.GetRequiredService<QueueResources>();
        var id = request.JsonRpcRequest.Id;
        var granted = new List<KeyValuePair<string, string>>();
        foreach (var uri in request.Params?.Notifications?.ResourceSubscriptions ?? [])
        {
            try
            {
                var channel = resources.ChannelOf(uri);
                if (!granted.Exists(g => string.Equals(g.Key, uri, StringComparison.Ordinal)))
                {
                    granted.Add(new(uri, channel));
                }
            }
            catch (McpProtocolException e)
            {
                Log(request).UriLeftOut(uri, e.Message);
            }
        }

        using var ended = EndToken(request, services, handlerToken);
        var listener = registry.BeginListen(request.Server, id);
        try
        {
            // Follow first, then acknowledge: a client may send as soon as it reads the acknowledgement, and that
            // message's update must not be missed (an update may then precede the acknowledgement on the stream).
            foreach (var (uri, channel) in granted)
            {
                registry.AddResource(listener, uri, channel);
            }

            await SendAcknowledgedAsync(request.Server, id, [.. granted.Select(g => g.Key)], ended.Token);

            await WaitAsync(ended.Token);
        }
        catch (OperationCanceledException) when (ended.IsCancellationRequested)
        {
            // The client cancelled while the acknowledgement was being written.
        }
        finally
        {
            registry.EndListen(listener);
        }

        return new EmptyResult();
    }

    /// <summary>
    /// The token that ends a listen: the client's cancellation (<see cref="McpRequestFilters.ClientCancellation"/>),
    /// the POST closed (HTTP), or the host stopping.
    /// </summary>
    public static CancellationTokenSource EndToken(MessageContext request, IServiceProvider? services, CancellationToken handlerToken)
    {
        var cancelled = McpRequestFilters.ClientCancellation(request, handlerToken);
        var aborted = services?.GetService<IHttpContextAccessor>()?.HttpContext?.RequestAborted ?? CancellationToken.None;
        var stopping = services?.GetService<HostStopping>()?.Token ?? CancellationToken.None;
        return CancellationTokenSource.CreateLinkedTokenSource(cancelled, aborted, stopping);
    }

    /// <summary>Sends the acknowledgement, which must come before any update: it grants <paramref name="uris"/> (or nothing).</summary>
    public static Task SendAcknowledgedAsync(McpServer server, RequestId id, IList<string> uris, CancellationToken cancellationToken)
    {
        var granted = new SubscriptionsAcknowledgedNotificationParams
        {
            Notifications = new SubscriptionsListenNotifications { ResourceSubscriptions = uris.Count > 0 ? uris : null },
        };
        var parameters = (JsonObject)JsonSerializer.SerializeToNode(granted, McpJsonUtilities.DefaultOptions)!;
        return server.SendMessageAsync(
            new JsonRpcNotification { Method = NotificationMethods.SubscriptionsAcknowledgedNotification, Params = Tag(parameters, id) },
            cancellationToken);
    }

    /// <summary>
    /// <c>notifications/resources/updated</c> of <paramref name="uri"/>; for a listen stream (<paramref name="listenId"/>
    /// set) tagged with that request's id, as 2026-07-28 requires.
    /// </summary>
    public static JsonRpcNotification Updated(string uri, RequestId? listenId)
    {
        var parameters = new JsonObject { ["uri"] = uri };
        return new JsonRpcNotification
        {
            Method = NotificationMethods.ResourceUpdatedNotification,
            Params = listenId is { } id ? Tag(parameters, id) : parameters,
        };
    }

    /// <summary>Waits until <paramref name="cancellationToken"/> is cancelled, without throwing.</summary>
    public static async Task WaitAsync(CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (cancellationToken.Register(static state => ((TaskCompletionSource)state!).TrySetResult(), done))
        {
            await done.Task;
        }
    }

    private static JsonObject Tag(JsonObject parameters, RequestId id)
    {
        if (parameters["_meta"] is not JsonObject meta)
        {
            meta = [];
            parameters["_meta"] = meta;
        }

        meta[MetaKeys.SubscriptionId] = JsonSerializer.SerializeToNode(id, McpJsonUtilities.DefaultOptions);
        return parameters;
    }

    /// <summary>Logs that <paramref name="uri"/> was not granted, and why.</summary>
    public static void LeftOut(MessageContext context, string uri, string reason) => Log(context).UriLeftOut(uri, reason);

    private static ILogger Log(MessageContext context) =>
        context.Server.Services?.GetService<ILoggerFactory>()?.CreateLogger(typeof(ResourceListen).FullName!) ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    [LoggerMessage(EventId = McpLogEvents.ListenUriLeftOut, Level = LogLevel.Debug, Message = "subscriptions/listen: {Uri} left out of the acknowledgement: {Reason}")]
    private static partial void UriLeftOut(this ILogger logger, string uri, string reason);
}
