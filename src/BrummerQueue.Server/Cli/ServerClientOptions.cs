using System.CommandLine;
using System.CommandLine.Parsing;
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
        // The help shows the default once, from DefaultValueFactory (BRUMMERQ_URL when set).
        Description = "URL of the running brummerq server (BRUMMERQ_URL)",
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

    /// <summary>
    /// <c>--token</c>. BRUMMERQ_TOKEN is read by <see cref="GetToken"/>, not by a default value
    /// factory, so that <c>--help</c> never prints the secret as a default.
    /// </summary>
    public static Option<string?> CreateTokenOption() => new("--token")
    {
        Description = "The server's token, if it has one (BRUMMERQ_TOKEN)",
    };

    /// <summary>The token from <c>--token</c>, else BRUMMERQ_TOKEN, else null.</summary>
    public static string? GetToken(ParseResult parse, Option<string?> option) =>
        parse.GetValue(option) is { Length: > 0 } given ? given
        : Environment.GetEnvironmentVariable("BRUMMERQ_TOKEN") is { Length: > 0 } token ? token
        : null;

    /// <summary>The message for a refused token (HTTP 401) to a command-line user.</summary>
    public static string TokenRefused(bool tokenGiven) => tokenGiven
        ? "401 the server refused the token given (--token or BRUMMERQ_TOKEN); use the token it was started with"
        : "401 this server needs its token: pass --token or set BRUMMERQ_TOKEN";

    /// <summary>An error answer as one line: a refused token says what to do, anything else shows the server's detail.</summary>
    public static async Task<string> ErrorTextAsync(HttpResponseMessage response, bool tokenGiven, CancellationToken cancellationToken) =>
        response.StatusCode == System.Net.HttpStatusCode.Unauthorized
            ? TokenRefused(tokenGiven)
            : await ProblemText.ReadAsync(response, cancellationToken);

    public static HttpClient CreateHttpClient(Uri baseUrl, string? token)
    {
        var client = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    /// <summary>A whole-number option; anything else is refused with <paramref name="rule"/> (the server's wording).</summary>
    public static long? ParseInteger(ArgumentResult result, string rule)
    {
        if (result.Tokens.Count == 0)
        {
            return null;
        }

        if (long.TryParse(result.Tokens[0].Value, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        result.AddError(rule);
        return null;
    }

    /// <summary>The API path of a channel's messages; names may hold <c>/</c>, which stays a path separator.</summary>
    public static Uri MessagesPath(string channel) =>
        new("api/channels/" + Uri.EscapeDataString(channel).Replace("%2F", "/", StringComparison.OrdinalIgnoreCase) + "/messages", UriKind.Relative);

    /// <summary>The message for a server that cannot be reached.</summary>
    public static string Unreachable(Uri url, Exception exception) =>
        $"brummerq: cannot reach a brummerq server at {url} ({exception.Message}). Start one with 'brummerq serve' or pass --url.";
}
