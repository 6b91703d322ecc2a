using System.Text.Json;

namespace BrummerQueue.Server.Cli;

/// <summary>Turns an HTTP error answer (RFC 9457 problem+json, or anything else) into one line for a user.</summary>
internal static class ProblemText
{
    public static async Task<string> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("detail", out var detail)
                && detail.ValueKind == JsonValueKind.String)
            {
                // The detail names the field and the rule; the HTTP status means nothing to a user of the command.
                return detail.GetString()!;
            }
        }
        catch (JsonException)
        {
            // Not problem+json: show the status line.
        }

        return $"{(int)response.StatusCode} {response.ReasonPhrase}";
    }
}
