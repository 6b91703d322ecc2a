using System.CommandLine;
using System.Net.Http.Headers;

namespace BrummerQueue.Server.Cli;

/// <summary>
/// The options every client command (<c>send</c>, <c>tail</c>, <c>stats</c>) shares: where the server
/// is and its token; and the HTTP client and messages built from them.
/// </summary>
internal static class ServerClientOptions
{
    public const string DefaultUrl = "http://127.0.0.1:8080";

    public static Option<Uri> CreateUrlOption() => new("--url")
    {
        Description = $"URL of the running brummerq server (BRUMMERQ_URL) [default: {DefaultUrl}]",
        DefaultValueFactory = _ => new Uri(Environment.GetEnvironmentVariable("BRUMMERQ_URL") is { Length: > 0 } url ? url : DefaultUrl),
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : DefaultUrl;
            if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
            {
                return uri;
            }

            result.AddError($"--url must be an http:// or https:// URL, not '{text}'");
            return null;
        },
    };

    public static Option<string?> CreateTokenOption() => new("--token")
    {
        Description = "The server's token, if it has one (BRUMMERQ_TOKEN)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("BRUMMERQ_TOKEN") is { Length: > 0 } token ? token : null,
    };

    public static HttpClient CreateHttpClient(Uri baseUrl, string? token)
    {
        var client = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    /// <summary>The API path of a channel's messages; names may hold <c>/</c>, which stays a path separator.</summary>
    public static Uri MessagesPath(string channel) =>
        new("api/channels/" + Uri.EscapeDataString(channel).Replace("%2F", "/", StringComparison.OrdinalIgnoreCase) + "/messages", UriKind.Relative);

    /// <summary>The message for a server that cannot be reached.</summary>
    public static string Unreachable(Uri url, Exception exception) =>
        $"brummerq: cannot reach a brummerq server at {url} ({exception.Message}). Start one with 'brummerq serve' or pass --url.";
}
