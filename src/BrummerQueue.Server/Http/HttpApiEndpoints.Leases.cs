using System.Globalization;
using System.Text.Json;
using BrummerQueue.Core;
using BrummerQueue.Server.Protocol;

namespace BrummerQueue.Server.Http;

/// <summary>
/// Acknowledged receive over the HTTP API (docs/protocol.md "Acknowledged receive"): <c>GET …/messages?ack_timeout=</c> leases,
/// <c>POST /api/channels/{name}/acks</c> with <c>{"message_ids": [...]}</c> acks. HTTP requests have no owner: a lease taken here
/// is acked by any HTTP client (or sessionless MCP call) that names it, and ends only by its timeout.
/// </summary>
internal static partial class HttpApiEndpoints
{
    private const string AcksSuffix = "/acks";

    /// <summary>Bytes an ack body may have: 1,000 ids of 36 characters with their quotes and commas, and some room.</summary>
    private const int AckBodyLimit = 64 * 1024;

    private static readonly string[] s_ackFields = ["message_ids"];

    private static async Task<IResult> AckAsync(HttpContext context, string channel, IMessageQueue queue)
    {
        var body = await ReadBodyAsync(context.Request.Body, AckBodyLimit, context.RequestAborted);
        if (body is null)
        {
            return ApiProblems.Problem(
                StatusCodes.Status413PayloadTooLarge,
                "Body too large",
                QueueErrorCodes.MessageTooLarge,
                $"{QueueErrorCodes.MessageTooLarge}: an ack body must be at most {AckBodyLimit} bytes (up to {LeaseRules.MaxAckIds} ids)",
                "body");
        }

        try
        {
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(body.Value);
            }
            catch (JsonException)
            {
                throw QueueException.Invalid("body", "body must be a JSON object {\"message_ids\": [...]}");
            }

            using (document)
            {
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    throw QueueException.Invalid("body", "body must be a JSON object {\"message_ids\": [...]}");
                }

                WireFields.RejectUnknown(document.RootElement, s_ackFields);
                var ids = LeaseJson.MessageIds(document.RootElement.TryGetProperty("message_ids"u8, out var element) ? element : null);
                var result = queue.Ack(channel, ids);
                return new JsonBodyResult(StatusCodes.Status200OK, w => LeaseJson.WriteAckResult(w, result));
            }
        }
        catch (QueueException ex)
        {
            return ApiProblems.From(ex);
        }
    }

    private static bool TryGetAckChannel(string? path, out string channel)
    {
        channel = string.Empty;
        if (path is null || !path.EndsWith(AcksSuffix, StringComparison.Ordinal) || path.Length == AcksSuffix.Length)
        {
            return false;
        }

        channel = Uri.UnescapeDataString(path[..^AcksSuffix.Length]);
        return true;
    }

    private static double? QueryAckTimeout(IQueryCollection query)
    {
        if (!query.TryGetValue("ack_timeout", out var raw) || string.IsNullOrEmpty(raw))
        {
            return null;
        }

        // Core checks the range, with the same rule on every face.
        return double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw QueueException.Invalid("ack_timeout", LeaseRules.AckTimeoutRule);
    }
}
