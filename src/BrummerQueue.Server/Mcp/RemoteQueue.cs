using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using BrummerQueue.Core;
using BrummerQueue.Server.Protocol;
using BrummerQueue.Server.Settings;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace BrummerQueue.Server.Mcp;

/// <summary>
/// Attach mode of <c>brummerq mcp</c>: when a brummerq already serves the port, this process's
/// stdio MCP server forwards every tool call and resource request to that server's <c>/mcp</c>
/// through the SDK's MCP client, so both assistants act on one queue. The HTTP session of the
/// forwarding client owns the subscriptions it makes (they end when this process ends its session).
/// When the hosting server is gone (nothing listens on its port any more), the next call hands hosting over
/// (<see cref="HandOverAsync"/>): this process binds the port and starts the same host a hosting <c>brummerq mcp</c>
/// runs, or, when another process bound it first, attaches to that one; then the call goes on to the new host. The first
/// tool result after a hand-over says so once (<see cref="HandOverMeta"/>). Subscriptions held on the old host are gone:
/// a call naming one gets <c>not_found</c> naming the hand-over. Without a hand-over (no host factory given, or the port
/// is taken by another program) calls fail fast with an error naming the URL, and the next call tries again.
/// </summary>
internal sealed partial class RemoteQueue : IAsyncDisposable
{
    private readonly Uri _endpoint;
    private readonly string? _token;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger<RemoteQueue> _logger;
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private readonly ConcurrentDictionary<string, IAsyncDisposable> _resourceSubscriptions = new(StringComparer.Ordinal);

    private const string RevisionMetaPrefix = "io.modelcontextprotocol/";

    /// <summary>
    /// The <c>_meta</c> key of the hand-over notice on the first tool result after a hand-over:
    /// <c>{ "message", "url", "hosted_here" }</c> (<c>hosted_here</c>: this process now hosts the queue).
    /// </summary>
    public const string HandOverMeta = "brummerq/handover";

    /// <summary>At most this many probes of the port in one hand-over, and at most <see cref="s_handOverTime"/> in all.</summary>
    private const int HandOverProbes = 20;

    private static readonly TimeSpan s_handOverTime = TimeSpan.FromSeconds(15);

    /// <summary>The pause before probing again when the port answers but not as brummerq (a host starting or stopping).</summary>
    private static readonly TimeSpan s_probePause = TimeSpan.FromMilliseconds(200);

    private readonly Uri _baseAddress;

    // Starts hosting on the port (null: the port is taken); null when this instance never hosts.
    private readonly Func<CancellationToken, Task<WebApplication?>>? _host;

    // The host this process started in a hand-over; written once under _connectLock, stopped by DisposeAsync.
    private WebApplication? _hosted;

    // True once a forwarding client connected; written under _connectLock.
    private bool _connectedOnce;

    // The hand-over notice not yet shown in a tool result; taken by one result (Interlocked.Exchange).
    private HandOverNotice? _notice;

    // Subscription ids made through the current forwarding client, and those that ended with a lost connection (their
    // host exited). Lock-free sets; a subscription made just as its client is dropped may stay in the first (its calls
    // then get the new host's own not_found).
    private readonly ConcurrentDictionary<string, byte> _heldSubscriptions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _endedSubscriptions = new(StringComparer.Ordinal);

    /// <summary>The SDK client's JSON depth limit for a whole JSON-RPC message it writes or reads.</summary>
    private const int ClientMaxDepth = PayloadEnvelope.McpSdkMaxDepth;

    /// <summary>
    /// The deepest payload a forwarded <c>queue_send</c> can carry: the SDK client must write the request (payload 3
    /// levels down: message, params, arguments) and read the answer, which echoes the message 4 levels down (message,
    /// result, structuredContent, message). A deeper one would be stored but reported as a failure.
    /// </summary>
    private const int MaxForwardedPayloadDepth = ClientMaxDepth - 4;

    /// <summary>
    /// The deepest payload the SDK client can read in a <c>queue_receive</c> answer: the reply puts it 5 levels down
    /// (message, result, structuredContent, messages, message).
    /// </summary>
    private const int MaxRelayedPayloadDepth = ClientMaxDepth - 5;

    // Guarded by _connectLock for writes; read without it (a stale read only costs one failed call).
    private McpClient? _client;

    // Resources followed by this process's subscriptions/listen streams (2026-07-28 clients): URI → the forwarding
    // client's resources/subscribe of it and how many streams use it. Guarded by _listenGate (held across the
    // forwarded subscribe and unsubscribe, so a URI is subscribed once per forwarding client).
    private readonly Dictionary<string, ListenedResource> _listened = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _listenGate = new(1, 1);

    // Attach mode's channel events: the stdio server they are relayed to (set once by StartRelayAsync, before any
    // push subscription is made), opened when its client has initialized; and the --wake channels, subscribed again
    // on every new connection.
    private McpServer? _relay;
    private readonly TaskCompletionSource _relayOpen = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string[] _wake = [];

    /// <param name="baseAddress">The hosting server's base address, e.g. <c>http://127.0.0.1:8080/</c>.</param>
    /// <param name="token">The bearer token for its <c>/mcp</c>, or null.</param>
    /// <param name="loggerFactory">Logging (stderr in <c>brummerq mcp</c>).</param>
    /// <param name="host">
    /// Starts hosting the queue on the port of <paramref name="baseAddress"/> and returns the started host, or null when the
    /// port is taken; null (the default): this instance never takes over hosting.
    /// </param>
    public RemoteQueue(Uri baseAddress, string? token, ILoggerFactory loggerFactory, Func<CancellationToken, Task<WebApplication?>>? host = null)
    {
        _baseAddress = baseAddress;
        _host = host;
        _endpoint = new Uri(baseAddress, BrummerMcpServer.Path);
        _token = token;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<RemoteQueue>();
    }

    /// <summary>
    /// Whether the queue outlives the process that hosts it (the Redis store): then a hand-over says that messages and
    /// channels are still there, instead of gone with the host.
    /// </summary>
    public bool StoreOutlivesHost { get; init; }

    /// <summary>
    /// The <c>queue_send</c> payloads read from stdio before the SDK parses them (<see cref="SentPayloads"/>), bounded by
    /// the largest depth limit: the hosting server checks its own.
    /// </summary>
    public SentPayloads SentPayloads { get; } = new(new QueueOptions { MaxPayloadDepth = QueueOptions.MaxPayloadDepthLimit });

    /// <summary>The <c>/mcp</c> URL of the hosting server.</summary>
    public Uri Endpoint => _endpoint;

    /// <summary>Connects now, so that a broken server shows at start rather than at the first call.</summary>
    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        await GetClientAsync(cancellationToken);
        LogAttached(_endpoint);
    }

    /// <summary>Server identity and the forwarding handlers.</summary>
    public void Configure(McpServerOptions options)
    {
        BrummerMcpServer.ConfigureIdentity(options);
        ReceiveDelivery.AddFilters(options);
        McpRequestFilters.Install(options);
        options.Filters.Message.IncomingFilters.Add(next => (context, cancellationToken) =>
        {
            if (context.JsonRpcMessage is JsonRpcRequest { Params: JsonObject { } parameters })
            {
                StripRevisionMeta(parameters);
            }

            return next(context, cancellationToken);
        });
        options.Handlers.ListToolsHandler = async (request, cancellationToken) =>
            await ForwardAsync(c => c.ListToolsAsync(request.Params ?? new ListToolsRequestParams(), cancellationToken), cancellationToken);
        options.Handlers.CallToolHandler = CallToolAsync;
        options.Handlers.ListResourceTemplatesHandler = async (request, cancellationToken) =>
            await ForwardAsync(c => c.ListResourceTemplatesAsync(request.Params ?? new ListResourceTemplatesRequestParams(), cancellationToken), cancellationToken);
        options.Handlers.ListResourcesHandler = async (request, cancellationToken) =>
            await ForwardAsync(c => c.ListResourcesAsync(request.Params ?? new ListResourcesRequestParams(), cancellationToken), cancellationToken);
        options.Handlers.CompleteHandler = async (request, cancellationToken) =>
            await ForwardAsync(c => c.CompleteAsync(request.Params!, cancellationToken), cancellationToken);
        options.Handlers.ReadResourceHandler = async (request, cancellationToken) =>
            await ForwardAsync(c => c.ReadResourceAsync(request.Params!, cancellationToken), cancellationToken);
        options.Handlers.SubscribeToResourcesHandler = async (request, cancellationToken) =>
        {
            var uri = request.Params?.Uri ?? throw new McpProtocolException("uri is required", McpErrorCode.InvalidParams);
            var server = request.Server;
            var subscription = await ForwardAsync<IAsyncDisposable>(
                c => c.SubscribeToResourceAsync(
                    uri,
                    (update, ct) => new ValueTask(server.SendNotificationAsync(NotificationMethods.ResourceUpdatedNotification, update, McpJsonUtilities.DefaultOptions, ct)),
                    cancellationToken: cancellationToken),
                cancellationToken);
            if (!_resourceSubscriptions.TryAdd(uri, subscription))
            {
                await subscription.DisposeAsync();
            }

            return new EmptyResult();
        };
        options.Handlers.SubscriptionsListenHandler = ListenAsync;
        options.Handlers.UnsubscribeFromResourcesHandler = async (request, _) =>
        {
            if (request.Params?.Uri is { } uri && _resourceSubscriptions.TryRemove(uri, out var subscription))
            {
                await DisposeQuietlyAsync(subscription);
            }

            return new EmptyResult();
        };
    }

    /// <summary>
    /// Removes the 2026-07-28 per-request envelope (<c>_meta["io.modelcontextprotocol/…"]</c>: this process's client's
    /// revision, info and capabilities) from a request before it is forwarded: it describes that hop, which the SDK has
    /// already read. Left in, the SDK's HTTP client would send the forwarded request as a sessionless 2026-07-28 request
    /// (it takes the <c>MCP-Protocol-Version</c> header from that field), outside the forwarding session. Other
    /// <c>_meta</c> (a progress token) is forwarded.
    /// </summary>
    private static void StripRevisionMeta(JsonObject parameters)
    {
        if (parameters["_meta"] is not JsonObject meta)
        {
            return;
        }

        foreach (var key in meta.Select(p => p.Key).Where(k => k.StartsWith(RevisionMetaPrefix, StringComparison.Ordinal)).ToList())
        {
            meta.Remove(key);
        }

        if (meta.Count == 0)
        {
            parameters.Remove("_meta");
        }
    }

    /// <summary>
    /// Relays the hosting server's <c>notifications/claude/channel</c> events to <paramref name="stdio"/>'s client (once it
    /// has initialized), and subscribes this process's session to each of <paramref name="wake"/> with <c>push: true</c>,
    /// now and after every reconnection. Returns the hosting server's refusal of a <c>--wake</c> channel.
    /// </summary>
    public async Task<string?> StartRelayAsync(McpServer stdio, string[] wake, CancellationToken cancellationToken)
    {
        _relay = stdio;
        stdio.RegisterNotificationHandler(NotificationMethods.InitializedNotification, (_, _) =>
        {
            _relayOpen.TrySetResult();
            return ValueTask.CompletedTask;
        });
        // The client connected at start has not subscribed them; a client made after this point subscribes them itself.
        var client = await GetClientAsync(cancellationToken);
        _wake = [.. wake.Distinct(StringComparer.Ordinal)];
        return _wake.Length == 0 ? null : await SubscribeWakeAsync(client, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var subscription in _resourceSubscriptions.Values)
        {
            await DisposeQuietlyAsync(subscription);
        }

        if (_client is { } client)
        {
            await DisposeQuietlyAsync(client);
        }

        if (_hosted is { } hosted)
        {
            try
            {
                await hosted.StopAsync(CancellationToken.None);
            }
            finally
            {
                await hosted.DisposeAsync();
            }
        }

        _connectLock.Dispose();
    }

    /// <summary>A resource followed for listen streams: the forwarding client that subscribed it and how many streams use it (guarded by <c>_listenGate</c>).</summary>
    private sealed class ListenedResource(McpClient client)
    {
        public McpClient Client { get; } = client;

        public int Streams { get; set; } = 1;
    }

    /// <summary>
    /// <c>subscriptions/listen</c> of this process's 2026-07-28 client (<see cref="ResourceListen"/>): each resource is
    /// followed through the forwarding client's session (<c>resources/subscribe</c> on the hosting server, which checks
    /// the URI; one it refuses is left out of the acknowledgement) and its updates are relayed on the listen stream.
    /// An update that arrives before the acknowledgement is written is not relayed (the acknowledgement comes first).
    /// The stream ends when the client cancels it, or when the connection to the hosting server breaks (the client
    /// then listens again, which connects again).
    /// </summary>
    private async ValueTask<EmptyResult> ListenAsync(RequestContext<SubscriptionsListenRequestParams> request, CancellationToken handlerToken)
    {
        using var ended = ResourceListen.EndToken(request, request.Services, handlerToken);
        var id = request.JsonRpcRequest.Id;
        var server = request.Server;
        var acknowledged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = new List<(string Uri, ListenedResource Resource)>();
        IAsyncDisposable? relay = null;
        try
        {
            var client = await ForwardAsync(c => Task.FromResult(c), ended.Token);
            var granted = new List<string>();
            foreach (var uri in (request.Params?.Notifications?.ResourceSubscriptions ?? []).Distinct(StringComparer.Ordinal))
            {
                try
                {
                    held.Add((uri, await FollowAsync(client, uri, ended.Token)));
                    granted.Add(uri);
                }
                catch (McpProtocolException e)
                {
                    ResourceListen.LeftOut(request, uri, e.Message);
                }
            }

            relay = client.RegisterNotificationHandler(NotificationMethods.ResourceUpdatedNotification, async (notification, ct) =>
            {
                if (notification.Params?["uri"] is JsonNode node && node.GetValueKind() == JsonValueKind.String
                    && granted.Contains(node.GetValue<string>(), StringComparer.Ordinal))
                {
                    // An update that comes before the acknowledgement is written waits for it, never lost: a client
                    // may send as soon as it reads the acknowledgement.
                    try
                    {
                        await acknowledged.Task.WaitAsync(ct);
                    }
                    catch (OperationCanceledException)
                    {
                        return; // The stream ended before it was acknowledged.
                    }

                    await server.SendMessageAsync(ResourceListen.Updated(node.GetValue<string>(), id), ct);
                }
            });
            await ResourceListen.SendAcknowledgedAsync(server, id, granted, ended.Token);
            acknowledged.TrySetResult();
            await Task.WhenAny(ResourceListen.WaitAsync(ended.Token), client.Completion);
        }
        catch (OperationCanceledException) when (ended.IsCancellationRequested)
        {
            // The client cancelled while the stream was being set up.
        }
        catch (McpException e)
        {
            // The hosting server is not reachable (ForwardAsync logged it): the stream ends with that error.
            throw new McpProtocolException(e.Message, McpErrorCode.InternalError);
        }
        finally
        {
            acknowledged.TrySetCanceled(CancellationToken.None);
            if (relay is not null)
            {
                await DisposeQuietlyAsync(relay);
            }

            foreach (var (uri, resource) in held)
            {
                await UnfollowAsync(uri, resource);
            }
        }

        return new EmptyResult();
    }

    /// <summary>Subscribes the forwarding session to <paramref name="uri"/> unless a listen stream of this client already did.</summary>
    private async Task<ListenedResource> FollowAsync(McpClient client, string uri, CancellationToken cancellationToken)
    {
        await _listenGate.WaitAsync(cancellationToken);
        try
        {
            if (_listened.TryGetValue(uri, out var current) && current.Client == client)
            {
                current.Streams++;
                return current;
            }

            await client.SubscribeToResourceAsync(new SubscribeRequestParams { Uri = uri }, cancellationToken);
            var resource = new ListenedResource(client);
            _listened[uri] = resource;
            return resource;
        }
        finally
        {
            _listenGate.Release();
        }
    }

    /// <summary>One listen stream stops following <paramref name="uri"/>; the last one unsubscribes the forwarding session.</summary>
    private async Task UnfollowAsync(string uri, ListenedResource resource)
    {
        await _listenGate.WaitAsync(CancellationToken.None);
        try
        {
            if (--resource.Streams > 0)
            {
                return;
            }

            if (_listened.TryGetValue(uri, out var current) && current == resource)
            {
                _listened.Remove(uri);
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await resource.Client.UnsubscribeFromResourceAsync(new UnsubscribeRequestParams { Uri = uri }, timeout.Token);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The hosting server is gone or ended the session: nothing is followed there any more.
        }
        finally
        {
            _listenGate.Release();
        }
    }

    private async ValueTask<CallToolResult> CallToolAsync(RequestContext<CallToolRequestParams> request, CancellationToken handlerToken) =>
        WithNotice(await ForwardToolAsync(request, handlerToken));

    /// <summary>Adds the hand-over notice, once, to the first tool result after a hand-over: a text line and <c>_meta</c>.</summary>
    private CallToolResult WithNotice(CallToolResult result)
    {
        if (Interlocked.Exchange(ref _notice, null) is not { } notice)
        {
            return result;
        }

        result.Content = [.. result.Content, new TextContentBlock { Text = notice.Message }];
        result.Meta ??= [];
        result.Meta[HandOverMeta] = new JsonObject
        {
            ["message"] = notice.Message,
            ["url"] = notice.Url.ToString(),
            ["hosted_here"] = notice.HostedHere,
        };
        return result;
    }

    /// <summary>The refusal of a call naming a subscription that ended with a hand-over, or null.</summary>
    private CallToolResult? EndedSubscription(CallToolRequestParams? call)
    {
        if (call is not { Name: QueueToolDefinitions.Receive or QueueToolDefinitions.Unsubscribe, Arguments: { } arguments }
            || !arguments.TryGetValue("subscription_id", out var value) || value.ValueKind != JsonValueKind.String
            || value.GetString() is not { } id || !_endedSubscriptions.ContainsKey(id))
        {
            return null;
        }

        return ToolResults.Error(new QueueException(
            QueueErrorCodes.NotFound,
            "subscription_id",
            $"subscription_id '{id}' does not exist any more: it ended with this process's connection to the brummerq at {_baseAddress}, " +
            "which was lost when that host exited (hosting hand-over). Subscribe again with queue_subscribe."));
    }

    /// <summary>Remembers the subscription a forwarded <c>queue_subscribe</c> made, so that a hand-over can name it.</summary>
    private void NoteSubscription(CallToolRequestParams call, CallToolResult result)
    {
        if (call.Name == QueueToolDefinitions.Subscribe && result.IsError != true
            && result.StructuredContent is { ValueKind: JsonValueKind.Object } content
            && content.TryGetProperty("subscription_id", out var id) && id.ValueKind == JsonValueKind.String)
        {
            _heldSubscriptions.TryAdd(id.GetString()!, 0);
        }
        else if (call.Name == QueueToolDefinitions.Unsubscribe && result.IsError != true
            && call.Arguments?.TryGetValue("subscription_id", out var gone) == true && gone.ValueKind == JsonValueKind.String)
        {
            _heldSubscriptions.TryRemove(gone.GetString()!, out _);
        }
    }

    private async Task<CallToolResult> ForwardToolAsync(RequestContext<CallToolRequestParams> request, CancellationToken handlerToken)
    {
        var cancellationToken = McpRequestFilters.ClientCancellation(request, handlerToken);
        if (EndedSubscription(request.Params) is { } ended)
        {
            return ended;
        }

        if (request.JsonRpcMessage is JsonRpcRequest call
            && SentPayloads.TryTake(call, null, out var sent)
            && request.Params?.Arguments is { IsReadOnly: false } arguments)
        {
            // The payload rule is the hosting server's; its UTF-8 and surrogate clauses are checked here too, because
            // the SDK's client cannot write such a payload on (the depth is the hosting server's to check). The client
            // writes non-ASCII text as \u escapes: forwarded calls keep the JSON, not its bytes.
            try
            {
                JsonPayload.Parse(sent);
            }
            catch (QueueException e)
            {
                return ToolResults.Error(e.Message);
            }

            if (!WithinDepth(sent, MaxForwardedPayloadDepth))
            {
                // Legal on the hosting server, but the SDK's client cannot write it; nothing is sent, so nothing is stored.
                return ToolResults.Error(
                    $"payload is nested more than {MaxForwardedPayloadDepth} levels deep, which {QueueToolDefinitions.Send} through an attached " +
                    $"'brummerq mcp' cannot forward (the MCP client's limit of {ClientMaxDepth} levels for a whole request or reply); nothing was sent. " +
                    "Send it with the HTTP API (POST /api/channels/{channel}/messages) or through a direct MCP connection to the hosting server.");
            }

            arguments["payload"] = JsonElement.Parse(sent, PayloadEnvelope.AnyReplyOptions);
        }
        try
        {
            if (request.Params is { Name: QueueToolDefinitions.Receive } receive)
            {
                // This process keeps its own client's call alive while the hosting server waits.
                await using var keepAlive = ReceiveKeepAlive.Start(request, TimeProvider.System, _loggerFactory.CreateLogger<ReceiveKeepAlive>(), cancellationToken);
                return await ForwardReceiveAsync(request, receive, cancellationToken);
            }

            if (request.Params is { Name: QueueToolDefinitions.Request } ask)
            {
                // As for a blocking receive, this process keeps its own client alive while the hosting server waits for the reply.
                await using var keepAlive = ReceiveKeepAlive.Start(request, TimeProvider.System, _loggerFactory.CreateLogger<ReceiveKeepAlive>(), cancellationToken);
                ask.Meta?.Remove("progressToken");
                return await ForwardAsync(c => c.CallToolAsync(ask, cancellationToken), cancellationToken);
            }

            var result = await ForwardAsync(c => c.CallToolAsync(request.Params!, cancellationToken), cancellationToken);
            NoteSubscription(request.Params!, result);
            return result;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return McpRequestFilters.Cancelled(request, request.Params?.Name ?? string.Empty);
        }
        catch (McpProtocolException e)
        {
            return ToolResults.Error(e.Message);
        }
        catch (McpException e)
        {
            return ToolResults.Error(e.Message);
        }
    }

    /// <summary>
    /// Forwards a <c>queue_receive</c> with a receipt id this process chose, under which the hosting server keeps what
    /// it took, and parks a put-back of that receipt until this process's response to its own client is sent
    /// (<see cref="ReceiveDelivery"/>, whose filters this server runs too): if the response cannot be sent, or the call
    /// was cancelled after the hosting server answered, the messages go back to the hosting server's queue (SPEC.md §1
    /// "Reads never lose"). Because the id is chosen here, a forwarded call that fails after the hosting server may
    /// have taken messages (an answer the SDK's client cannot read, a transport error, a cancellation that crosses the
    /// answer) is put back too, before the connection is dropped (its session's receipts end with it); a receipt the
    /// hosting server never kept is a harmless not-found.
    /// </summary>
    private async Task<CallToolResult> ForwardReceiveAsync(RequestContext<CallToolRequestParams> request, CallToolRequestParams receive, CancellationToken cancellationToken)
    {
        var receipt = Guid.NewGuid().ToString("N");
        receive.Meta ??= [];
        receive.Meta[ReceiveDelivery.ReceiptMeta] = receipt;

        // Progress is this process's to send (ReceiveKeepAlive): the hosting server's would reach no one.
        receive.Meta.Remove("progressToken");
        McpClient? used = null;
        var result = await ForwardAsync(
            async Task<CallToolResult> (McpClient c) =>
            {
                used = c;
                try
                {
                    return await c.CallToolAsync(receive, cancellationToken);
                }
                catch (Exception e) when (e is not McpProtocolException and not OutOfMemoryException && !NeverReached(e))
                {
                    var restored = await PutBackRemoteAsync(c, receipt);
                    if (restored is not null && IsUnreadableAnswer(e))
                    {
                        // The hosting server answered (it kept the receipt) with a reply the SDK's client could not read:
                        // the one such reply is a message nested deeper than the client's JSON depth limit.
                        throw new McpProtocolException(
                            $"{QueueToolDefinitions.Receive} through an attached 'brummerq mcp' cannot return a message whose payload is nested " +
                            $"more than {MaxRelayedPayloadDepth} levels deep (the MCP client's limit of {ClientMaxDepth} levels for a whole reply); " +
                            $"the {restored} message(s) it took were put back in order. Read them with the HTTP API " +
                            "(GET /api/channels/{channel}/messages) or through a direct MCP connection to the hosting server.",
                            McpErrorCode.InternalError);
                    }

                    throw;
                }
            },
            cancellationToken);
        if (result.Meta?[ReceiveDelivery.ReceiptMeta]?.GetValue<string>() is not { } kept || used is null)
        {
            return result;
        }

        result.Meta.Remove(ReceiveDelivery.ReceiptMeta);
        var client = used;
        Func<ValueTask> putBack = async () => await PutBackRemoteAsync(client, kept);
        if (cancellationToken.IsCancellationRequested)
        {
            await putBack();
            cancellationToken.ThrowIfCancellationRequested();
        }

        ReceiveDelivery.Hold(request.Items, putBack);
        return result;
    }

    /// <summary>True when <paramref name="json"/> (valid JSON) is nested at most <paramref name="maxDepth"/> levels deep.</summary>
    private static bool WithinDepth(byte[] json, int maxDepth)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = maxDepth });
        try
        {
            while (reader.Read())
            {
            }

            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// True for the SDK client's failure when the answer to a request was not a message it could read (it logs the
    /// JSON error and reports that the response completed without a reply).
    /// </summary>
    private static bool IsUnreadableAnswer(Exception e) =>
        e is McpException && e.InnerException is null
        && e.Message.Contains("completed without a reply", StringComparison.Ordinal);

    /// <summary>Puts back what <paramref name="receipt"/> names; returns how many messages were restored, null when the receipt was not kept or the call failed.</summary>
    private async Task<int?> PutBackRemoteAsync(McpClient client, string receipt)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            var result = await client.CallToolAsync(
                new CallToolRequestParams
                {
                    Name = ReceiveDelivery.PutBackTool,
                    Arguments = new Dictionary<string, System.Text.Json.JsonElement> { ["receipt"] = System.Text.Json.JsonSerializer.SerializeToElement(receipt, McpJsonUtilities.DefaultOptions) },
                },
                timeout.Token);
            return result.IsError != true
                && result.StructuredContent is { ValueKind: JsonValueKind.Object } content
                && content.TryGetProperty("restored", out var restored) && restored.TryGetInt32(out var count)
                    ? count
                    : null;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The hosting server is gone or forgot the receipt: there is nothing left to return the messages to. When
            // nothing listens any more the host exited, and the messages went with it (a hand-over follows): no warning.
            // The put-back may also have been cut off mid-request by the host's exit, so look at the port, not only
            // at how the call failed.
            if (!NeverReached(e) && (await PortProbe.ProbeAsync(_baseAddress, CancellationToken.None)).Occupant != PortOccupant.Free)
            {
                LogPutBackFailed(_endpoint, e.Message);
            }

            return null;
        }
    }

    /// <summary>Subscribes the forwarding session to the <c>--wake</c> channels with <c>push: true</c>; returns the first refusal.</summary>
    private async Task<string?> SubscribeWakeAsync(McpClient client, CancellationToken cancellationToken)
    {
        foreach (var channel in _wake)
        {
            var result = await client.CallToolAsync(
                new CallToolRequestParams
                {
                    Name = QueueToolDefinitions.Subscribe,
                    Arguments = new Dictionary<string, JsonElement>
                    {
                        ["channel"] = JsonSerializer.SerializeToElement(channel, McpJsonUtilities.DefaultOptions),
                        ["push"] = JsonSerializer.SerializeToElement(true, McpJsonUtilities.DefaultOptions),
                    },
                },
                cancellationToken);
            if (result.IsError == true)
            {
                return $"--wake {channel}: " + string.Concat(result.Content.OfType<TextContentBlock>().Select(t => t.Text));
            }
        }

        return null;
    }

    /// <summary>
    /// Passes a channel event of the hosting server on to this process's stdio client. The hosting server took its
    /// messages from the subscription when it sent the event; if the stdio client is gone they are lost from the
    /// subscription (they stay in the channel's backlog).
    /// </summary>
    private async ValueTask RelayChannelEventAsync(JsonRpcNotification notification, CancellationToken cancellationToken)
    {
        if (_relay is not { } stdio)
        {
            return;
        }

        try
        {
            await _relayOpen.Task.WaitAsync(cancellationToken);
            await stdio.SendMessageAsync(new JsonRpcNotification { Method = notification.Method, Params = notification.Params }, cancellationToken);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogRelayFailed(e.Message);
        }
    }

    private async Task<T> ForwardAsync<T>(Func<McpClient, ValueTask<T>> call, CancellationToken cancellationToken) =>
        await ForwardAsync(c => call(c).AsTask(), cancellationToken);

    private async Task<T> ForwardAsync<T>(Func<McpClient, Task<T>> call, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            McpClient client;
            try
            {
                client = await GetClientAsync(cancellationToken);
            }
            catch (McpException e)
            {
                LogForwardFailed(e.Message);
                throw;
            }

            try
            {
                return await call(client);
            }
            catch (McpProtocolException)
            {
                // The hosting server answered with a protocol error: pass it on unchanged.
                throw;
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                await DropClientAsync(client);
                if (attempt == 1 && _host is not null && await HostGoneAsync(e))
                {
                    // The host is gone, and whatever the call did there went with it: the call goes to the next host
                    // (GetClientAsync hands hosting over), once.
                    continue;
                }

                var failure = await ExplainAsync(Unreachable(e));
                LogForwardFailed(failure.Message);
                throw failure;
            }
        }
    }

    /// <summary>
    /// <paramref name="failure"/>, or, when this process could take over hosting but another program now answers on the
    /// port (so no hand-over can happen), an error saying so.
    /// </summary>
    private async Task<McpException> ExplainAsync(McpException failure)
    {
        if (_host is null)
        {
            return failure;
        }

        var (occupant, detail, _) = await PortProbe.ProbeAsync(_baseAddress, CancellationToken.None);
        return occupant == PortOccupant.Other
            ? new McpException(
                $"the brummerq that hosted the queue at {_baseAddress} has exited, and this 'brummerq mcp' could not take over hosting on its port: " +
                $"another program answers there ({detail}). Free the port (or start 'brummerq serve' on it) and call again.",
                failure)
            : failure;
    }

    /// <summary>
    /// True when the host this call failed on is gone: the connection was refused (the request was never sent), or the
    /// call broke and nothing listens on the port any more (the host exited during the call).
    /// </summary>
    private async Task<bool> HostGoneAsync(Exception e) =>
        NeverReached(e) || (await PortProbe.ProbeAsync(_baseAddress, CancellationToken.None)).Occupant == PortOccupant.Free;

    /// <summary>True when <paramref name="e"/> comes from a refused connection: nothing listens on the port, the request was never sent.</summary>
    private static bool NeverReached(Exception e) =>
        Find<System.Net.Sockets.SocketException>(e) is { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionRefused };

    private async Task<McpClient> GetClientAsync(CancellationToken cancellationToken)
    {
        if (_client is { Completion.IsCompleted: false } current)
        {
            return current;
        }

        await _connectLock.WaitAsync(cancellationToken);
        try
        {
            if (_client is { Completion.IsCompleted: false } again)
            {
                return again;
            }

            if (_client is { } stale)
            {
                _client = null;
                EndHeldSubscriptions();
                await DisposeQuietlyAsync(stale);
            }

            McpClient client;
            try
            {
                client = await CreateClientAsync(cancellationToken);
            }
            catch (McpException e) when (_host is not null && NeverReached(e))
            {
                // The host is gone: take hosting over, or attach to the process that took it over first.
                await HandOverAsync(cancellationToken);
                client = await CreateClientAsync(cancellationToken);
            }
            catch (McpException e) when (_host is not null)
            {
                throw await ExplainAsync(e);
            }

            _client = client;
            _connectedOnce = true;
            return client;
        }
        finally
        {
            _connectLock.Release();
        }
    }

    /// <summary>Connects a new forwarding client (under <c>_connectLock</c>); a failure is the <see cref="Unreachable"/> error.</summary>
    private async Task<McpClient> CreateClientAsync(CancellationToken cancellationToken)
    {
        var transportOptions = new HttpClientTransportOptions
        {
            Endpoint = _endpoint,
            TransportMode = HttpTransportMode.StreamableHttp,
            Name = "brummerq-attach",
            ConnectionTimeout = TimeSpan.FromSeconds(5),
            MaxReconnectionAttempts = 1,
            DefaultReconnectionInterval = TimeSpan.FromMilliseconds(200),
        };
        if (_token is not null)
        {
            transportOptions.AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + _token };
        }

        McpClient? client = null;
        try
        {
            client = await McpClient.CreateAsync(
                new HttpClientTransport(transportOptions, _loggerFactory),
                new McpClientOptions
                {
                    // Whatever revision this process's own client speaks, the forwarding client keeps a session (initialize
                    // handshake): the hosting server then owns this process's subscriptions, keeps its receipts and pushes
                    // resource updates, which this process relays as resources/updated or on subscriptions/listen streams.
                    ProtocolVersion = ProtocolRevisions.NewestWithSessions,
                    ClientInfo = new Implementation { Name = "brummerq-attach", Version = BrummerMcpServer.Version },
                    InitializationTimeout = TimeSpan.FromSeconds(10),
                    Handlers = new McpClientHandlers
                    {
                        NotificationHandlers = [new(ChannelEvent.Method, RelayChannelEventAsync)],
                    },
                },
                _loggerFactory,
                cancellationToken);

            // Fills the client's tool cache, which CallToolAsync looks tools up in.
            await client.ListToolsAsync(cancellationToken: cancellationToken);
            if (_wake.Length > 0 && await SubscribeWakeAsync(client, cancellationToken) is { } refused)
            {
                // A reconnection (a refusal at start ends the process instead, see StartRelayAsync).
                LogForwardFailed(refused);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            if (client is not null)
            {
                await DisposeQuietlyAsync(client);
            }

            throw Unreachable(e);
        }

        return client;
    }

    /// <summary>
    /// The hosting hand-over (under <c>_connectLock</c>, after a connection to the port was refused): probes the port at
    /// most <see cref="HandOverProbes"/> times within <see cref="s_handOverTime"/>. Free: this process binds it and
    /// starts hosting; when the bind fails another process was first, and the next probe finds it. A brummerq: attach
    /// to it. Anything else (a host still starting or stopping, or another program): probe again after a pause. Throws
    /// the <see cref="McpException"/> to report when no brummerq serves the port in the end.
    /// </summary>
    private async Task HandOverAsync(CancellationToken cancellationToken)
    {
        var started = TimeProvider.System.GetTimestamp();
        var detail = "nothing listens";
        for (var probe = 1; probe <= HandOverProbes && TimeProvider.System.GetElapsedTime(started) < s_handOverTime; probe++)
        {
            PortOccupant occupant;
            (occupant, detail, _) = await PortProbe.ProbeAsync(_baseAddress, cancellationToken);
            if (occupant == PortOccupant.Free && _hosted is null && _host is not null)
            {
                WebApplication? hosted;
                try
                {
                    hosted = await _host(cancellationToken);
                }
                catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
                {
                    throw new McpException(
                        $"the brummerq that hosted the queue at {_baseAddress} has exited, and this 'brummerq mcp' could not take over hosting on its port: {e.Message}",
                        e);
                }

                if (hosted is not null)
                {
                    _hosted = hosted;
                    LogTookOver(_baseAddress);
                    Announce(new HandOverNotice(
                        $"Hosting hand-over: the brummerq that hosted the queue at {_baseAddress} has exited{Lost()}. This 'brummerq mcp' now hosts the queue on that port " +
                        "(MCP, WebSocket, HTTP API, dashboard); other assistants that shared it attach here.",
                        _baseAddress,
                        HostedHere: true));
                    return;
                }

                // Another process bound the port first: probe again to find it.
                continue;
            }

            if (occupant == PortOccupant.Brummerq)
            {
                LogReattached(_baseAddress);
                Announce(new HandOverNotice(
                    $"Hosting hand-over: the brummerq that hosted the queue at {_baseAddress} has exited{Lost()}. Another 'brummerq mcp' now hosts the queue on that port, " +
                    "and this one acts on its queue.",
                    _baseAddress,
                    HostedHere: false));
                return;
            }

            await Task.Delay(s_probePause, cancellationToken);
        }

        throw new McpException(
            $"the brummerq that hosted the queue at {_baseAddress} has exited, and this 'brummerq mcp' could not take over hosting on its port: " +
            $"{detail}. Free the port (or start 'brummerq serve' on it) and call again.");
    }

    /// <summary>Keeps <paramref name="notice"/> for the next tool result, unless this process never connected before (nothing was lost).</summary>
    private void Announce(HandOverNotice notice)
    {
        if (_connectedOnce)
        {
            Volatile.Write(ref _notice, notice);
        }
    }

    /// <summary>The subscriptions made through a dropped client ended with its session: calls naming them get not_found.</summary>
    private void EndHeldSubscriptions()
    {
        foreach (var id in _heldSubscriptions.Keys)
        {
            _endedSubscriptions.TryAdd(id, 0);
            _heldSubscriptions.TryRemove(id, out _);
        }
    }

    private async Task DropClientAsync(McpClient client)
    {
        if (Interlocked.CompareExchange(ref _client, null, client) == client)
        {
            _resourceSubscriptions.Clear();
            EndHeldSubscriptions();
            await DisposeQuietlyAsync(client);
        }
    }

    /// <summary>The error for a failed connection or call: a refused token says so; anything else means the server is gone.</summary>
    private McpException Unreachable(Exception cause)
    {
        if (Find<HttpRequestException>(cause) is { StatusCode: HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden })
        {
            return new McpException(
                _token is null
                    ? $"the brummerq server at {_endpoint} needs a token: set {SettingsCatalog.EnvironmentPrefix}TOKEN or pass --token with the token it was started with."
                    : $"the brummerq server at {_endpoint} refused the token given (--token or {SettingsCatalog.EnvironmentPrefix}TOKEN): use the token it was started with.",
                cause);
        }

        return new McpException(
            $"the brummerq server at {_endpoint} that this 'brummerq mcp' attached to is not reachable ({Innermost(cause).Message}). " +
            (_host is null
                ? "The process that hosted the queue has probably exited and its messages are gone with it. Start 'brummerq serve' (or restart this MCP server so it hosts the queue itself) and call again."
                : "The process that hosted the queue has probably exited and its messages are gone with it. Call again: this 'brummerq mcp' then takes over hosting on that port, or attaches to the process that did."),
            cause);
    }

    private static T? Find<T>(Exception? e)
        where T : Exception => e switch
        {
            null => null,
            T found => found,
            AggregateException a => a.InnerExceptions.Select(Find<T>).FirstOrDefault(f => f is not null),
            _ => Find<T>(e.InnerException),
        };

    private static Exception Innermost(Exception e) => e.InnerException is null ? e : Innermost(e.InnerException);

    private static async ValueTask DisposeQuietlyAsync(IAsyncDisposable disposable)
    {
        try
        {
            await disposable.DisposeAsync();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Disposing a connection to a server that is gone may fail; there is nothing left to release.
        }
    }

    [LoggerMessage(EventId = McpLogEvents.Attached, Level = LogLevel.Information, Message = "Attached to the brummerq at {Endpoint}: tools act on its queue")]
    private partial void LogAttached(Uri endpoint);

    [LoggerMessage(EventId = McpLogEvents.TookOver, Level = LogLevel.Warning, Message = "Hosting hand-over: the brummerq that hosted the queue at {Address} has exited and its messages are gone with it; this process now hosts the queue there")]
    private partial void LogTookOver(Uri address);

    [LoggerMessage(EventId = McpLogEvents.Reattached, Level = LogLevel.Warning, Message = "Hosting hand-over: the brummerq that hosted the queue at {Address} has exited and its messages are gone with it; another brummerq mcp took over hosting there and this process attached to it")]
    private partial void LogReattached(Uri address);

    [LoggerMessage(EventId = McpLogEvents.RemoteUnreachable, Level = LogLevel.Warning, Message = "{Problem}")]
    private partial void LogForwardFailed(string problem);

    [LoggerMessage(EventId = McpLogEvents.RemoteRelayFailed, Level = LogLevel.Warning, Message = "Could not pass a channel event on to this MCP client: {Reason}")]
    private partial void LogRelayFailed(string reason);

    [LoggerMessage(EventId = McpLogEvents.RemotePutBackFailed, Level = LogLevel.Warning, Message = "Could not return undelivered messages to the brummerq at {Endpoint}: {Reason}")]
    private partial void LogPutBackFailed(Uri endpoint, string reason);

    /// <summary>What the hand-over cost, for its notice: everything with the in-memory store; with Redis, only the host's subscriptions.</summary>
    private string Lost() => StoreOutlivesHost
        ? "; the queue is kept in Redis, so its messages and channels are still there, and subscriptions held through the exited process end after the idle limit"
        : ", and its messages, channels and subscriptions are gone with it (subscription ids from before now answer not_found)";
}
