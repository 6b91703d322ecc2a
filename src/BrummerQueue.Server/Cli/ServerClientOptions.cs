using System.Collections;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Net.Http.Headers;
using BrummerQueue.Server.Hosting;
using BrummerQueue.Server.Mcp;
using BrummerQueue.Server.Settings;

namespace BrummerQueue.Server.Cli;

/// <summary>
/// The options every client command (<c>send</c>, <c>tail</c>, <c>stats</c>) shares: where the server
/// is and its token; and the HTTP client and messages built from them. They follow the server's own settings:
/// <c>--url</c>, else the <c>--host</c>/<c>--port</c> flags, else <c>BRUMMERQ_URL</c>, else the host and port a
/// <c>brummerq serve</c> started here would use (<c>BRUMMERQ_HOST</c>, <c>BRUMMERQ_PORT</c>, <c>Brummerq:Host</c> and
/// <c>Brummerq:Port</c> in the working directory's appsettings.json, see <see cref="SettingsFile"/>); the token
/// likewise (<c>--token</c>, else <c>BRUMMERQ_TOKEN</c>, else <c>Brummerq:Token</c>).
/// </summary>
internal static class ServerClientOptions
{
    /// <summary>Environment variable naming the server's URL for the client commands.</summary>
    public const string UrlVariable = SettingsCatalog.EnvironmentPrefix + "URL";

    /// <summary><c>--host</c>: the server's Host setting, for the URL when <c>--url</c> is not given.</summary>
    public static Option<string?> CreateHostOption() => new("--host")
    {
        Description = $"The server's --host, to reach it without --url [env: {SettingsCatalog.EnvironmentPrefix}HOST]",
        HelpName = "address",
    };

    /// <summary><c>--port</c>: the server's Port setting, for the URL when <c>--url</c> is not given.</summary>
    public static Option<string?> CreatePortOption() => new("--port")
    {
        Description = $"The server's --port, to reach it without --url [env: {SettingsCatalog.EnvironmentPrefix}PORT]",
        HelpName = "int",
    };

    /// <summary>
    /// <c>--url</c>; without it, <see cref="DefaultUrl"/> with the <paramref name="host"/> and <paramref name="port"/>
    /// flags. A bad setting is a parse error naming it.
    /// </summary>
    public static Option<Uri> CreateUrlOption(Option<string?> host, Option<string?> port) => new("--url")
    {
        // The help shows the default once, from DefaultValueFactory: the URL this command would use.
        Description = $"URL of the running brummerq server; without it http://HOST:PORT from --host/--port, else {UrlVariable}, else from the server's settings ({SettingsCatalog.EnvironmentPrefix}HOST, {SettingsCatalog.EnvironmentPrefix}PORT, appsettings.json)",
        DefaultValueFactory = result =>
        {
            try
            {
                var flags = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
                foreach (var (option, name) in new[] { (host, nameof(ServerOptions.Host)), (port, nameof(ServerOptions.Port)) })
                {
                    if (result.GetValue(option) is { Length: > 0 } value)
                    {
                        flags[SettingsCatalog.All.Single(s => s.Name == name).ConfigKey] = value;
                    }
                }

                return DefaultUrl(Environment.GetEnvironmentVariables(), SettingsFile.InWorkingDirectory(), flags);
            }
            catch (Exception e) when (HostRunner.SettingsError(e) is { } message)
            {
                result.AddError(message);
                return PortProbe.BaseAddress(new ServerOptions().Host, new ServerOptions().Port);
            }
        },
        CustomParser = result =>
        {
            var text = result.Tokens[0].Value;
            if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
            {
                return uri;
            }

            result.AddError($"--url must be an http:// or https:// URL, not '{text}'");
            return null;
        },
    };

    /// <summary>
    /// The server URL when <c>--url</c> is not given: from <paramref name="flags"/> (configuration keys of
    /// <c>--host</c>/<c>--port</c>) when there are any, else <see cref="UrlVariable"/> from <paramref name="environment"/>,
    /// else <c>http://HOST:PORT/</c> from the <c>Host</c> and <c>Port</c> settings as the server reads them (flags,
    /// environment, <paramref name="settingsFile"/>, then the defaults 127.0.0.1 and 8080; 0.0.0.0 and :: become
    /// loopback). Only those two settings are read, so a bad value of another setting does not stop a client.
    /// </summary>
    /// <exception cref="SettingsException">The variable is not an http(s) URL, or Host or Port is malformed or 0.</exception>
    public static Uri DefaultUrl(IDictionary environment, SettingsFile settingsFile, IDictionary<string, string?>? flags = null)
    {
        flags ??= new Dictionary<string, string?>();
        if (flags.Count == 0 && environment[UrlVariable] is string { Length: > 0 } text)
        {
            return Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
                ? uri
                : throw new SettingsException($"{UrlVariable} must be an http:// or https:// URL, not '{text}'");
        }

        var configuration = settingsFile.BuildConfiguration(environment, flags);
        var defaults = new ServerOptions();
        var host = Read(configuration, nameof(ServerOptions.Host)) as string ?? defaults.Host;
        var port = Read(configuration, nameof(ServerOptions.Port)) as int? ?? defaults.Port;
        if (port is <= 0 or > 65535)
        {
            var setting = SettingsCatalog.All.Single(s => s.Name == nameof(ServerOptions.Port));
            throw new SettingsException($"Invalid setting {setting.Display}: a client needs the server's port (1-65535), not {port}; pass --url or {UrlVariable}.");
        }

        return PortProbe.BaseAddress(host, port);
    }

    private static object? Read(IConfiguration configuration, string name)
    {
        var setting = SettingsCatalog.All.Single(s => s.Name == name);
        return configuration[setting.ConfigKey] is { } text ? SettingValueParser.Parse(setting, text) : null;
    }

    /// <summary>
    /// <c>--token</c>. BRUMMERQ_TOKEN is read by <see cref="GetToken"/>, not by a default value
    /// factory, so that <c>--help</c> never prints the secret as a default.
    /// </summary>
    public static Option<string?> CreateTokenOption() => new("--token")
    {
        Description = "The server's token, if it has one; without it BRUMMERQ_TOKEN, else Brummerq:Token in appsettings.json",
    };

    /// <summary>The token from <c>--token</c>, else the server's Token setting as <c>serve</c> would read it here (BRUMMERQ_TOKEN, appsettings.json), else null.</summary>
    public static string? GetToken(ParseResult parse, Option<string?> option) =>
        parse.GetValue(option) is { Length: > 0 } given ? given : SettingsToken(Environment.GetEnvironmentVariables(), SettingsFile.InWorkingDirectory());

    /// <summary>The Token setting from <paramref name="environment"/> and <paramref name="settingsFile"/>; null when unset or the file is not JSON (the URL's default reports that).</summary>
    public static string? SettingsToken(IDictionary environment, SettingsFile settingsFile)
    {
        try
        {
            var key = SettingsCatalog.All.Single(s => s.Name == nameof(ServerOptions.Token)).ConfigKey;
            return settingsFile.BuildConfiguration(environment, new Dictionary<string, string?>())[key] is { Length: > 0 } token ? token : null;
        }
        catch (InvalidDataException)
        {
            return environment[SettingsCatalog.EnvironmentPrefix + "TOKEN"] as string is { Length: > 0 } token ? token : null;
        }
    }

    /// <summary>The message for a refused token (HTTP 401) to a command-line user.</summary>
    public static string TokenRefused(bool tokenGiven) => tokenGiven
        ? "the server refused the token given (--token or BRUMMERQ_TOKEN); use the token it was started with"
        : "this server needs its token: pass --token or set BRUMMERQ_TOKEN";

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

        // Negative values break every such rule whatever the server's limits, so they are refused here, with the same
        // exit code, even when no server runs; an upper bound is the server's setting and its to judge.
        if (long.TryParse(result.Tokens[0].Value, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var value) && value >= 0)
        {
            return value;
        }

        result.AddError(rule);
        return null;
    }

    /// <summary>The API path of a channel's messages; names may hold <c>/</c>, which stays a path separator.</summary>
    public static Uri MessagesPath(string channel) =>
        new("api/channels/" + Uri.EscapeDataString(channel).Replace("%2F", "/", StringComparison.OrdinalIgnoreCase) + "/messages", UriKind.Relative);

    /// <summary>The message for a server that cannot be reached, the same for every command (a WebSocket's reason is its connection's).</summary>
    public static string Unreachable(string command, Uri url, Exception exception) =>
        $"brummerq {command}: cannot reach a brummerq server at {url} ({(exception is System.Net.WebSockets.WebSocketException { InnerException: { } inner } ? inner.Message : exception.Message)}). " +
        $"Start one with 'brummerq serve', or point {WhereToPoint} at the one you run.";

    /// <summary>The settings that choose a client's server, as messages name them.</summary>
    public const string WhereToPoint = "--url (BRUMMERQ_URL) or --host/--port (BRUMMERQ_HOST/BRUMMERQ_PORT)";
}
