using System.Text.Json;
using BrummerQueue.Server.Protocol;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace BrummerQueue.Server.Mcp;

/// <summary>
/// Wraps the SDK's <c>/mcp</c> endpoint (after the request guard: Host, Origin, token), for two things
/// the SDK (2.4.0) does in a way meant for server developers:
/// <list type="bullet">
/// <item>A request without a session (other than <c>initialize</c>) or with a session that no longer
/// exists gets a JSON-RPC error the client's user can act on (what happened, what to do), with the
/// status MCP Streamable HTTP requires: 400 without <c>Mcp-Session-Id</c>, 404 for an unknown one. The
/// SDK's own texts tell the server's author to switch to stateless mode. Requests of the sessionless
/// revision (2026-07-28 and later) and DELETE go to the SDK unchanged.</item>
/// <item>A request whose session ends while the SDK serves it (DELETE, idle expiry, shutdown) makes the
/// SDK throw <see cref="OperationCanceledException"/>, which ASP.NET Core would log as an unhandled
/// error; here the response just ends.</item>
/// </list>
/// Stateless and thread-safe.
/// </summary>
internal static partial class McpEndpointGuard
{
    /// <summary>The header of the Streamable HTTP session id.</summary>
    public const string SessionHeader = "Mcp-Session-Id";

    /// <summary>JSON-RPC error code of a request without a session (the SDK's code for it).</summary>
    public const int NoSessionCode = -32000;

    /// <summary>JSON-RPC error code of a request for a session that does not exist (the SDK's code for it).</summary>
    public const int SessionEndedCode = -32001;

    /// <summary>The answer to a request without a session id.</summary>
    public const string NoSessionMessage =
        "This request has no MCP session: brummerq starts a session with an initialize request and needs its Mcp-Session-Id header on every later request. " +
        "Reconnect (or restart) your MCP client; if you are writing the client, send initialize first.";

    /// <summary>
    /// The answer to a request for a session that does not exist (any more), or not on this node: sessions live in the
    /// memory of the node that made them (docs/scale-out.md, "Deploying N nodes behind a load balancer").
    /// </summary>
    public const string SessionEndedMessage =
        "This MCP session has ended: the brummerq server restarted, or the session was closed or expired after being idle, " +
        "or this request reached another brummerq node than the one that made the session (behind a load balancer, route by Mcp-Session-Id). " +
        "Reconnect your MCP client to start a new session; subscriptions made in the old one are gone, so subscribe again.";

    /// <summary>Wraps <paramref name="sdk"/>, the SDK's request delegate of one <c>/mcp</c> endpoint.</summary>
    public static RequestDelegate Wrap(RequestDelegate sdk) => async context =>
    {
        if (!await AnswersAsync(context))
        {
            try
            {
                await sdk(context);
            }
            catch (OperationCanceledException)
            {
                // The client left, or the session ended while the SDK was serving this request: end the response.
                var logger = Logger(context);
                LogEndedDuringRequest(logger, context.Request.Method);
            }
            catch (JsonException e) when (!context.Response.HasStarted)
            {
                // The SDK's HTTP transport reads initialize params itself, before any filter, and lets a refusal
                // escape as an unhandled exception (500 and an Error log): answer the client's mistake instead.
                var message = McpRequestFilters.InvalidParamsMessage(RequestMethods.Initialize, e);
                var logger = Logger(context);
                LogInvalidParams(logger, RequestMethods.Initialize, message);
                await WriteErrorAsync(context, StatusCodes.Status400BadRequest, (int)McpErrorCode.InvalidParams, message, null, logRefusal: false);
            }
        }
    };

    /// <summary>Answers a request without a usable session; false when the SDK should serve it.</summary>
    private static async Task<bool> AnswersAsync(HttpContext context)
    {
        var request = context.Request;
        var revision = request.Headers["MCP-Protocol-Version"].ToString();
        if (HttpMethods.IsDelete(request.Method) || ProtocolRevisions.IsSessionless(revision))
        {
            return false;
        }

        var sessionId = request.Headers[SessionHeader].ToString();
        if (sessionId.Length > 0)
        {
            if (context.RequestServices.GetRequiredService<McpSessionRegistry>().IsHttpSession(sessionId))
            {
                return false;
            }

            await WriteErrorAsync(context, StatusCodes.Status404NotFound, SessionEndedCode, SessionEndedMessage, await ReadRequestIdAsync(context));
            return true;
        }

        if (HttpMethods.IsPost(request.Method))
        {
            var (passOn, id) = await PeekAsync(context);
            if (passOn)
            {
                return false;
            }

            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, NoSessionCode, NoSessionMessage, id);
            return true;
        }

        await WriteErrorAsync(context, StatusCodes.Status400BadRequest, NoSessionCode, NoSessionMessage, null);
        return true;
    }

    /// <summary>Whether a sessionless POST is an initialize request (or not JSON-RPC at all: the SDK answers that), and its id.</summary>
    private static async Task<(bool PassOn, string? Id)> PeekAsync(HttpContext context)
    {
        context.Request.EnableBuffering();
        try
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("method", out var method) || method.ValueKind != JsonValueKind.String)
            {
                return (true, null);
            }

            var id = root.TryGetProperty("id", out var idElement) && idElement.ValueKind is JsonValueKind.String or JsonValueKind.Number ? idElement.GetRawText() : null;
            return (method.ValueEquals("initialize"), id);
        }
        catch (JsonException)
        {
            return (true, null);
        }
        finally
        {
            context.Request.Body.Position = 0;
        }
    }

    private static async Task<string?> ReadRequestIdAsync(HttpContext context)
    {
        if (!HttpMethods.IsPost(context.Request.Method))
        {
            return null;
        }

        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        return JsonSyntaxFault.ReadId(body.GetBuffer().AsSpan(0, (int)body.Length));
    }

    /// <summary>
    /// Answers an MCP POST here with a JSON-RPC error (<paramref name="id"/> is the request's raw JSON id, or null) and HTTP
    /// <paramref name="status"/>; logs it at Debug unless the caller logs its own line.
    /// </summary>
    public static async Task WriteErrorAsync(HttpContext context, int status, int code, string message, string? id, bool logRefusal = true)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, WireJson.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("jsonrpc"u8, "2.0"u8);
            writer.WritePropertyName("id"u8);
            if (id is null)
            {
                writer.WriteNullValue();
            }
            else
            {
                writer.WriteRawValue(id, skipInputValidation: true);
            }

            writer.WritePropertyName("error"u8);
            writer.WriteStartObject();
            writer.WriteNumber("code"u8, code);
            writer.WriteString("message"u8, message);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        if (logRefusal)
        {
            var logger = Logger(context);
            LogRefused(logger, context.Request.Method, status, message);
        }

        await context.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted);
    }

    private static ILogger Logger(HttpContext context) =>
        context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(McpEndpointGuard).FullName!);

    [LoggerMessage(EventId = McpLogEvents.SessionRefused, Level = LogLevel.Debug, Message = "MCP {Method} answered with {Status} before the SDK: {Reason}")]
    private static partial void LogRefused(ILogger logger, string method, int status, string reason);

    [LoggerMessage(EventId = McpLogEvents.EndedDuringRequest, Level = LogLevel.Debug, Message = "MCP {Method}: the client left or the session ended during the request")]
    private static partial void LogEndedDuringRequest(ILogger logger, string method);

    [LoggerMessage(EventId = McpLogEvents.RequestRefused, Level = LogLevel.Debug, Message = "{Method} refused: {Reason}")]
    private static partial void LogInvalidParams(ILogger logger, string method, string reason);
}
