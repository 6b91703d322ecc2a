using System.Globalization;
using System.Text.Json;
using BrummerQueue.Core;
using BrummerQueue.Server.Hosting;
using BrummerQueue.Server.Metrics;
using BrummerQueue.Server.Protocol;

namespace BrummerQueue.Server.Http;

/// <summary>
/// The HTTP API of SPEC.md section 4 under <c>/api</c> (docs/protocol.md): send, receive, list
/// channels, stats. Channel names may contain <c>/</c>, so the channel routes take the rest of the
/// path: <c>/api/channels/app/events/messages</c> is channel <c>app/events</c>.
/// </summary>
internal static partial class HttpApiEndpoints
{
    private const string MessagesSuffix = "/messages";

    /// <summary>The <c>code</c> of a 405 problem (not an engine code: the request never reached the queue).</summary>
    private const string MethodNotAllowedCode = "method_not_allowed";

    /// <summary>Bytes a send body may have beyond the message limit (the <c>type</c>/<c>ttl</c> envelope and whitespace).</summary>
    private const int BodyOverheadBytes = 64 * 1024;

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api").ExcludeFromDescription();
        api.MapPost("/channels/{**path}", SendAsync);
        api.MapGet("/channels/{**path}", ReceiveAsync);
        api.MapGet("/channels", ListChannels);
        api.MapGet("/stats", Stats);
        api.Map("/{**path}", Unmatched);
    }

    /// <summary>
    /// Every request that no route above took: 405 with <c>Allow</c> when the path exists under
    /// another method (<c>OPTIONS</c>, not a CORS preflight, gets 204 with <c>Allow</c>), else 404.
    /// </summary>
    private static IResult Unmatched(HttpContext context, string? path)
    {
        var allowed = AllowedMethods(path);
        if (allowed is null)
        {
            var hint = path is not null && path.StartsWith("channels/", StringComparison.Ordinal) ? "use /api/channels/{name}/messages" : "see docs/protocol.md";
            return ApiProblems.Problem(StatusCodes.Status404NotFound, "Not found", QueueErrorCodes.NotFound, $"no API endpoint at /api/{path}; {hint}", null);
        }

        context.Response.Headers.Allow = allowed;
        if (HttpMethods.IsOptions(context.Request.Method))
        {
            return Results.NoContent();
        }

        return ApiProblems.Problem(
            StatusCodes.Status405MethodNotAllowed,
            "Method not allowed",
            MethodNotAllowedCode,
            $"{context.Request.Method} is not allowed on /api/{path}; allowed: {allowed}",
            null);
    }

    /// <summary>The methods the routes of <see cref="Map"/> accept on <paramref name="path"/> (below <c>/api/</c>), or null when none does.</summary>
    private static string? AllowedMethods(string? path) => path switch
    {
        "channels" or "stats" => "GET",
        _ when TryGetRequestChannel(path?.StartsWith("channels/", StringComparison.Ordinal) == true ? path["channels/".Length..] : null, out _) => "POST",
        _ when path is not null && path.StartsWith("channels/", StringComparison.Ordinal) && TryGetAckChannel(path["channels/".Length..], out _) => "POST",
        _ when path is not null && path.StartsWith("channels/", StringComparison.Ordinal) && TryGetChannel(path["channels/".Length..], out _) => "GET, POST",
        _ => null,
    };

    private static async Task<IResult> SendAsync(HttpContext context, string? path, IMessageQueue queue)
    {
        if (TryGetRequestChannel(path, out var requestChannel))
        {
            return await RequestAsync(context, requestChannel, queue);
        }

        if (TryGetAckChannel(path, out var acking))
        {
            return await AckAsync(context, acking, queue);
        }

        if (!TryGetChannel(path, out var channel))
        {
            return Unmatched(context, path is null ? "channels" : "channels/" + path);
        }

        var limit = (long)queue.Options.MaxMessageBytes + BodyOverheadBytes;
        if (context.Request.ContentLength > limit)
        {
            return TooLarge(context, limit);
        }

        var body = await ReadBodyAsync(context.Request.Body, limit, context.RequestAborted);
        if (body is null)
        {
            return TooLarge(context, limit);
        }

        try
        {
            MessageDraft draft;
            if (body.Value.IsEmpty || body.Value.Span.Trim(" \t\r\n"u8).IsEmpty)
            {
                draft = default;
            }
            else
            {
                using var document = ParseBody(body.Value, queue.Options);
                WireFields.RejectUnknown(document.RootElement, WireFields.DraftFields);
                draft = WireFields.GetDraft(document.RootElement, queue.Options);
            }

            var result = await queue.SendAsync(channel, draft);
            return new JsonBodyResult(StatusCodes.Status201Created, w =>
            {
                w.WriteStartObject();
                w.WritePropertyName("message"u8);
                MessageJson.WriteMessage(w, result.Message);
                w.WriteNumber("delivered_to"u8, result.DeliveredTo);
                w.WriteEndObject();
            });
        }
        catch (QueueException ex)
        {
            return ApiProblems.From(ex);
        }
    }

    private static async Task<IResult> ReceiveAsync(HttpContext context, string? path, IMessageQueue queue, HostStopping stopping, ILoggerFactory loggers)
    {
        if (!TryGetChannel(path, out var channel))
        {
            return Unmatched(context, path is null ? "channels" : "channels/" + path);
        }

        try
        {
            var query = context.Request.Query;
            var timeout = QuerySeconds(query, "timeout", ReceiveRequest.MaxTimeoutSeconds) ?? 0;
            var request = new ReceiveRequest
            {
                Channel = channel,
                Limit = (int)(QueryInteger(query, "limit", 1, ReceiveRequest.MaxLimit) ?? ReceiveRequest.DefaultLimit),
                Peek = QueryBool(query, "peek") ?? false,
                AckTimeoutSeconds = QueryAckTimeout(query),
                Blocking = timeout > 0,
                TimeoutSeconds = timeout,
            };
            // A long poll ends early, empty, when the host stops, so that shutdown does not wait for it.
            var result = await stopping.ReceiveAsync(queue, request, context.RequestAborted);

            // Writes the answer, or puts what was taken back when it cannot (SPEC.md §1 "Reads never lose").
            return new ReceivedMessagesResult(queue, result);
        }
        catch (QueueException ex)
        {
            return ApiProblems.From(ex);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // A long poll whose client went away: nothing was taken, nobody reads an answer, and it is no server fault.
            HttpApiLog.ClientLeft(loggers.CreateLogger(HttpApiLog.Category), channel);
            return Results.Empty;
        }
    }

    private static IResult ListChannels(IMessageQueue queue)
    {
        try
        {
            var channels = queue.ListChannels();
            return new JsonBodyResult(StatusCodes.Status200OK, w => MessageJson.WriteChannelList(w, channels));
        }
        catch (QueueException ex)
        {
            // store_unavailable (the Redis store lost its connection): 503.
            return ApiProblems.From(ex);
        }
    }

    private static IResult Stats(IMessageQueue queue)
    {
        try
        {
            var stats = queue.GetStats();
            return new JsonBodyResult(StatusCodes.Status200OK, w => MessageJson.WriteStats(w, stats));
        }
        catch (QueueException ex)
        {
            return ApiProblems.From(ex);
        }
    }

    private static bool TryGetChannel(string? path, out string channel)
    {
        channel = string.Empty;
        if (path is null || !path.EndsWith(MessagesSuffix, StringComparison.Ordinal) || path.Length == MessagesSuffix.Length)
        {
            return false;
        }

        channel = Uri.UnescapeDataString(path[..^MessagesSuffix.Length]);
        return true;
    }

    /// <summary>A body over the message limit plus its envelope: refused before it is read whole, counted as a hit of MaxMessageBytes.</summary>
    private static IResult TooLarge(HttpContext context, long limit)
    {
        context.RequestServices.GetRequiredService<BrummerMetrics>().LimitHit(nameof(QueueOptions.MaxMessageBytes));
        return ApiProblems.Problem(
            StatusCodes.Status413PayloadTooLarge,
            "Message too large",
            QueueErrorCodes.MessageTooLarge,
            $"{QueueErrorCodes.MessageTooLarge}: body must be at most {limit} bytes (the message limit and {BodyOverheadBytes} bytes of envelope; {SettingNames.RaiseHint(nameof(QueueOptions.MaxMessageBytes))})",
            "body");
    }

    private static JsonDocument ParseBody(ReadOnlyMemory<byte> body, QueueOptions options)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, PayloadEnvelope.DocumentOptions(options));
        }
        catch (JsonException e)
        {
            // Say what is wrong and where, as the WebSocket does for a frame: "body is not valid JSON at byte 17
            // (in payload.a): …", or "body nests deeper than 72 levels at byte 141 (in payload…)" naming payload.
            var fault = JsonSyntaxFault.Describe(body.Span, e);
            throw QueueException.Invalid(fault.Field ?? "body", $"body {fault.Description}");
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            throw QueueException.Invalid("body", "body must be a JSON object { type?, payload?, ttl? }");
        }

        return document;
    }

    /// <summary>Reads the whole body, or null when it is longer than <paramref name="limit"/>.</summary>
    private static async Task<ReadOnlyMemory<byte>?> ReadBodyAsync(Stream body, long limit, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }

    private static long? QueryInteger(IQueryCollection query, string name, long min, long max)
    {
        if (!query.TryGetValue(name, out var raw) || string.IsNullOrEmpty(raw))
        {
            return null;
        }

        return long.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw QueueException.OutOfRange(name, min, max);
    }

    private static double? QuerySeconds(IQueryCollection query, string name, double max)
    {
        if (!query.TryGetValue(name, out var raw) || string.IsNullOrEmpty(raw))
        {
            return null;
        }

        return double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= 0 && value <= max
            ? value
            : throw QueueException.Invalid(name, $"{name} must be a number of seconds between 0 and {max}");
    }

    private static bool? QueryBool(IQueryCollection query, string name)
    {
        if (!query.TryGetValue(name, out var raw) || string.IsNullOrEmpty(raw))
        {
            return null;
        }

        return raw.ToString().ToLowerInvariant() switch
        {
            "true" or "1" => true,
            "false" or "0" => false,
            _ => throw QueueException.Invalid(name, $"{name} must be true or false"),
        };
    }
}
