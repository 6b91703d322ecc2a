using BrummerQueue.Core;

namespace BrummerQueue.Server.Http;

/// <summary>
/// RFC 9457 problem+json answers of the HTTP API. Every problem carries the extension members
/// <c>code</c> (the engine's error code, or <c>method_not_allowed</c> for a 405) and, when one
/// argument is at fault, <c>field</c>.
/// </summary>
internal static class ApiProblems
{
    /// <summary>
    /// Maps an engine refusal: invalid_argument 400, not_found 404, message_too_large 413, queue_full,
    /// too_many_subscriptions and rate_limited 429, too_many_connections and store_unavailable 503, timeout (a request without reply) 504.
    /// </summary>
    public static IResult From(QueueException exception) => exception.Code switch
    {
        QueueErrorCodes.NotFound => Problem(StatusCodes.Status404NotFound, "Not found", exception.Code, exception.Message, exception.Field),
        QueueErrorCodes.MessageTooLarge => Problem(StatusCodes.Status413PayloadTooLarge, "Message too large", exception.Code, exception.Message, exception.Field),
        QueueErrorCodes.QueueFull => Problem(StatusCodes.Status429TooManyRequests, "Queue full", exception.Code, exception.Message, exception.Field),
        QueueErrorCodes.TooManySubscriptions => Problem(StatusCodes.Status429TooManyRequests, "Too many subscriptions", exception.Code, exception.Message, exception.Field),
        QueueErrorCodes.RateLimited => Problem(StatusCodes.Status429TooManyRequests, "Rate limited", exception.Code, exception.Message, exception.Field),
        QueueErrorCodes.TooManyConnections => Problem(StatusCodes.Status503ServiceUnavailable, "Too many connections", exception.Code, exception.Message, exception.Field),
        QueueErrorCodes.Timeout => Problem(StatusCodes.Status504GatewayTimeout, "No reply", exception.Code, exception.Message, exception.Field),
        QueueErrorCodes.StoreUnavailable => Problem(StatusCodes.Status503ServiceUnavailable, "Store unavailable", exception.Code, exception.Message, exception.Field),
        _ => Problem(StatusCodes.Status400BadRequest, "Invalid argument", exception.Code, exception.Message, exception.Field),
    };

    public static IResult Problem(int status, string title, string code, string detail, string? field)
    {
        var extensions = new Dictionary<string, object?> { ["code"] = code };
        if (field is not null)
        {
            extensions["field"] = field;
        }

        return Results.Problem(detail: detail, statusCode: status, title: title, extensions: extensions);
    }
}
