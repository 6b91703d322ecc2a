using System.Collections.Frozen;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using BrummerQueue.Core;
using BrummerQueue.Server.Protocol;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace BrummerQueue.Server.Mcp;

/// <summary>
/// brummerq's incoming message filter: the SDK's hook around each JSON-RPC request, outside its
/// request handler and outside the SDK's own logging of that handler. It exists because the SDK
/// (2.4.0) logs every exception a handler throws at Warning with its stack trace (a failed tool or
/// resource read once more at Error), and sends a handler's answer with the request's token, so an
/// answer to a cancelled request fails the same way. A client that cancels its request, or reads a
/// resource that does not exist, is not a server fault: those end here as one Debug line.
/// <list type="bullet">
/// <item><c>tools/call</c>: the handler runs under a token the client's <c>notifications/cancelled</c>
/// does not cancel; the real one is handed to it in <see cref="MessageContext.Items"/>
/// (<see cref="ClientCancellation"/>). A cancelled call ends with an answer, which also ends the
/// call's HTTP response (the SDK keeps a POST's SSE stream open until the request's answer is sent).
/// <c>subscriptions/listen</c> likewise: its stream ends with an answer when the client cancels it.</item>
/// <item><c>resources/read</c> and <c>resources/subscribe</c>: an unknown or malformed URI is
/// answered with its JSON-RPC error here, before the handler; so is a <c>tools/call</c> whose params
/// are not <c>{name, arguments?}</c>.</item>
/// </list>
/// Stateless and thread-safe.
/// </summary>
internal static partial class McpRequestFilters
{
    private const string ClientCancellationKey = "brummerq.client-cancellation";

    // Roots, sampling and logging are deprecated by the 2026-07-28 revision; earlier revisions still send them.
#pragma warning disable MCP9005

    /// <summary>The request methods the SDK knows, less those a client answers.</summary>
    private static readonly FrozenSet<string> s_serverMethods = typeof(RequestMethods)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral && f.FieldType == typeof(string))
        .Select(f => (string)f.GetRawConstantValue()!)
        .Except([RequestMethods.RootsList, RequestMethods.SamplingCreateMessage, RequestMethods.ElicitationCreate])
        .ToFrozenSet(StringComparer.Ordinal);

    /// <summary>The params type the SDK reads for a method whose params are not checked elsewhere, and whether params are required.</summary>
    private static readonly FrozenDictionary<string, (Type Type, bool Required)> s_paramsTypes = new Dictionary<string, (Type, bool)>
    {
        [RequestMethods.Initialize] = (typeof(InitializeRequestParams), true),
        [RequestMethods.LoggingSetLevel] = (typeof(SetLevelRequestParams), true),
        [RequestMethods.CompletionComplete] = (typeof(CompleteRequestParams), true),
        [RequestMethods.ResourcesUnsubscribe] = (typeof(UnsubscribeRequestParams), true),
        [RequestMethods.ToolsList] = (typeof(ListToolsRequestParams), false),
        [RequestMethods.ResourcesList] = (typeof(ListResourcesRequestParams), false),
        [RequestMethods.ResourcesTemplatesList] = (typeof(ListResourceTemplatesRequestParams), false),
    }.ToFrozenDictionary(StringComparer.Ordinal);
#pragma warning restore MCP9005

    /// <summary>Adds the filter to <paramref name="options"/> (the HTTP and stdio servers on the local queue, and attach mode's stdio server).</summary>
    public static void Install(McpServerOptions options) =>
        options.Filters.Message.IncomingFilters.Add(next => async (context, cancellationToken) =>
        {
            if (context.JsonRpcMessage is not JsonRpcRequest request)
            {
                await next(context, cancellationToken);
                return;
            }

            if ((UnknownMethodRefusal(context, request) ?? ParamsRefusal(request)) is { } early)
            {
                // The SDK would log these at Warning with a stack trace (and answer bad params with a bare -32603).
                Log(context).RequestRefused(request.Method, early.Message);
                await context.Server.SendMessageAsync(
                    new JsonRpcError { Id = request.Id, Error = new JsonRpcErrorDetail { Code = early.Code, Message = early.Message } },
                    cancellationToken);
                return;
            }

            switch (request.Method)
            {
                case RequestMethods.ToolsCall when ToolCallRefusal(request) is { } refusal:
                    Log(context).RequestRefused(request.Method, refusal);
                    await context.Server.SendMessageAsync(
                        new JsonRpcError { Id = request.Id, Error = new JsonRpcErrorDetail { Code = (int)McpErrorCode.InvalidParams, Message = refusal } },
                        cancellationToken);
                    return;
                case RequestMethods.ToolsCall when ArgumentNotText(request) is { } refusal:
                    // A tool error the model can read, as for every other bad argument (SPEC.md section 2).
                    Log(context).RequestRefused(request.Method, refusal);
                    await context.Server.SendMessageAsync(
                        new JsonRpcResponse { Id = request.Id, Result = JsonSerializer.SerializeToNode(ToolResults.Error(QueueException.Invalid(refusal[..refusal.IndexOf(' ', StringComparison.Ordinal)], refusal)), McpJsonUtilities.DefaultOptions) },
                        cancellationToken);
                    return;
                case RequestMethods.ToolsCall or RequestMethods.SubscriptionsListen:
                    context.Items[ClientCancellationKey] = cancellationToken;
                    await next(context, CancellationToken.None);
                    return;
                case RequestMethods.ResourcesRead or RequestMethods.ResourcesSubscribe when Refusal(context, request) is { } refusal:
                    Log(context).RequestRefused(request.Method, refusal.Message);
                    await context.Server.SendMessageAsync(
                        new JsonRpcError { Id = request.Id, Error = new JsonRpcErrorDetail { Code = (int)refusal.ErrorCode, Message = refusal.Message } },
                        cancellationToken);
                    return;
                default:
                    await next(context, cancellationToken);
                    return;
            }
        });

    /// <summary>
    /// The token that ends a <c>tools/call</c> or <c>subscriptions/listen</c>: the client's <c>notifications/cancelled</c> or the end of
    /// its session (the SDK's token for the request); <paramref name="handlerToken"/> when the filter is not installed.
    /// </summary>
    public static CancellationToken ClientCancellation(MessageContext request, CancellationToken handlerToken) =>
        request.JsonRpcMessage.Context?.Items is { } items && items.TryGetValue(ClientCancellationKey, out var value) && value is CancellationToken token
            ? token
            : handlerToken;

    /// <summary>The answer to a tool call that ended because the client cancelled it, left, or ended its session.</summary>
    public static CallToolResult Cancelled(MessageContext request, string tool)
    {
        Log(request).ToolCancelled(tool);
        return ToolResults.Error($"{tool} was cancelled: the client cancelled the request, disconnected or ended its session");
    }

    /// <summary>
    /// A <c>tools/call</c> whose params the SDK cannot read (it would answer a bare -32603 "An error
    /// occurred." and log a warning): params must be an object with a string <c>name</c> and, if
    /// given, an object of <c>arguments</c>.
    /// </summary>
    private static string? ToolCallRefusal(JsonRpcRequest request) => request.Params switch
    {
        not System.Text.Json.Nodes.JsonObject => "Invalid params: tools/call needs params {\"name\": string, \"arguments\"?: object}",
        System.Text.Json.Nodes.JsonObject p when p["name"] is not { } name || name.GetValueKind() != System.Text.Json.JsonValueKind.String =>
            "Invalid params: name must be a string, the tool's name (see tools/list)",
        System.Text.Json.Nodes.JsonObject p when p["arguments"] is { } arguments && arguments.GetValueKind() != System.Text.Json.JsonValueKind.Object =>
            "Invalid params: arguments must be a JSON object of the tool's arguments",
        _ => null,
    };

    /// <summary>
    /// A request for a method this server does not answer: not one the SDK knows (<see cref="RequestMethods"/>), one a
    /// client answers (roots, sampling, elicitation), or <c>prompts/*</c> without the prompts capability. -32601, as the SDK answers.
    /// </summary>
    private static (int Code, string Message)? UnknownMethodRefusal(MessageContext context, JsonRpcRequest request)
    {
        var served = s_serverMethods.Contains(request.Method)
            && !(request.Method.StartsWith("prompts/", StringComparison.Ordinal) && context.Server.ServerOptions.Capabilities?.Prompts is null);
        return served ? null : ((int)McpErrorCode.MethodNotFound, $"Method '{request.Method}' is not available.");
    }

    /// <summary>
    /// Params that the SDK cannot read into the method's params type (it would answer a bare -32603 "An error occurred."
    /// and log a warning): -32602 naming the field, for the methods whose params the SDK reads itself.
    /// </summary>
    private static (int Code, string Message)? ParamsRefusal(JsonRpcRequest request)
    {
        if (!s_paramsTypes.TryGetValue(request.Method, out var entry))
        {
            return null;
        }

        if (request.Params is null)
        {
            return entry.Required ? ((int)McpErrorCode.InvalidParams, $"Invalid params: {request.Method} needs params (see the MCP specification)") : null;
        }

        try
        {
            _ = JsonSerializer.Deserialize(request.Params, McpJsonUtilities.DefaultOptions.GetTypeInfo(entry.Type));
            return null;
        }
        catch (JsonException e)
        {
            return ((int)McpErrorCode.InvalidParams, InvalidParamsMessage(request.Method, e));
        }
    }

    /// <summary>
    /// "Invalid params for logging/setLevel: level is not valid" or "... missing 'protocolVersion', 'capabilities'":
    /// a params object the SDK's types refused, without the serializer's internals.
    /// </summary>
    internal static string InvalidParamsMessage(string method, JsonException exception)
    {
        const string Missing = "missing required properties including: ";
        var at = exception.Message.IndexOf(Missing, StringComparison.Ordinal);
        if (at >= 0)
        {
            return $"Invalid params for {method}: missing {exception.Message[(at + Missing.Length)..].TrimEnd('.')}";
        }

        return exception.Path is { Length: > 2 } path
            ? $"Invalid params for {method}: {path[2..]} is not valid (see the MCP specification)"
            : $"Invalid params for {method}: params must be an object of the fields the MCP specification gives";
    }

    /// <summary>
    /// A <c>tools/call</c> argument holding a string with an escaped lone surrogate (<c>"x\ud83d"</c>, as a value
    /// or a property name, at any depth): the SDK cannot write such arguments out again into its request type and
    /// would answer a bare -32603 "An error occurred." Each argument is written here once, as the SDK will write
    /// it, and the first that cannot be is named; when an argument name is repeated the arguments cannot be listed
    /// by name and are written whole, naming <c>arguments</c>. The payload is not looked at: a <c>queue_send</c>
    /// payload was kept aside before the SDK parsed the request (<see cref="SentPayloads"/>) and the engine's
    /// payload rule judges it.
    /// </summary>
    private static string? ArgumentNotText(JsonRpcRequest request)
    {
        if (request.Params is not JsonObject { } parameters)
        {
            return null;
        }

        string? field = null;
        try
        {
            if (parameters["arguments"] is not JsonObject arguments)
            {
                return null;
            }

            try
            {
                foreach (var (name, value) in arguments)
                {
                    if (name != "payload" && !CanWrite(value))
                    {
                        field = name;
                        break;
                    }
                }
            }
            catch (ArgumentException)
            {
                // A repeated argument name: the object cannot be listed by name, only written whole.
                field = CanWrite(arguments) ? null : "arguments";
            }
        }
        catch (ArgumentException)
        {
            // A repeated name in params itself: the SDK's to judge.
            return null;
        }

        return field is null ? null : $"{field} must be valid Unicode text ({WireFields.LoneSurrogateRule})";

        static bool CanWrite(JsonNode? node)
        {
            try
            {
                _ = JsonSerializer.SerializeToUtf8Bytes(node, McpJsonUtilities.DefaultOptions);
                return true;
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException)
            {
                return false;
            }
        }
    }

    private static McpProtocolException? Refusal(MessageContext context, JsonRpcRequest request)
    {
        if (context.Server.Services?.GetService<QueueResources>() is not { } resources)
        {
            // Attach mode: resources are the hosting server's, which checks them.
            return null;
        }

        var uri = request.Params?["uri"] is { } node && node.GetValueKind() == System.Text.Json.JsonValueKind.String ? node.GetValue<string>() : null;
        try
        {
            _ = resources.ChannelOf(uri);
            return null;
        }
        catch (McpProtocolException e)
        {
            return e;
        }
    }

    private static ILogger Log(MessageContext context) =>
        context.Server.Services?.GetService<ILoggerFactory>()?.CreateLogger(typeof(McpRequestFilters).FullName!) ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    [LoggerMessage(EventId = McpLogEvents.ToolCancelled, Level = LogLevel.Debug, Message = "Tool {Tool} cancelled by the client")]
    private static partial void ToolCancelled(this ILogger logger, string tool);

    [LoggerMessage(EventId = McpLogEvents.RequestRefused, Level = LogLevel.Debug, Message = "{Method} refused: {Reason}")]
    private static partial void RequestRefused(this ILogger logger, string method, string reason);
}
