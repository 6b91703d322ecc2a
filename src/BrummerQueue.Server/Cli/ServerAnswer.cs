using System.Text.Json;
using BrummerQueue.Core;
using BrummerQueue.Server.Mcp;

namespace BrummerQueue.Server.Cli;

/// <summary>
/// How the client commands (<c>send</c>, <c>tail</c>, <c>stats</c>) report an answer that is not the one they asked
/// for, and with which exit code (<see cref="ExitCodes"/>). Whether the other side is brummerq is decided by the
/// same probe as <c>brummerq mcp</c>'s (<see cref="PortProbe"/>: <c>GET /healthz</c> names brummerq), asked only when
/// an answer is not one brummerq gives, so a working call costs nothing more.
/// </summary>
internal static class ServerAnswer
{
    /// <summary>
    /// Reports an error answer: brummerq's problem+json says what the server refused (exit 2 for an argument that
    /// breaks a rule, else 1); any other answer is checked with the probe and, when another program answered,
    /// says so instead of showing that program's status line.
    /// </summary>
    public static async Task<int> ReportErrorAsync(string command, Uri baseUrl, HttpResponseMessage response, bool tokenGiven, TextWriter error, CancellationToken cancellationToken)
    {
        var code = ProblemCode(await response.Content.ReadAsStringAsync(cancellationToken));
        var answered = $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.AbsolutePath} answered {(int)response.StatusCode} {response.ReasonPhrase}";
        if (code is null && await NotBrummerqAsync(baseUrl, answered, cancellationToken) is { } other)
        {
            await error.WriteLineAsync($"brummerq {command}: {other}");
            return ExitCodes.Failed;
        }

        await error.WriteLineAsync($"brummerq {command}: {await ServerClientOptions.ErrorTextAsync(response, tokenGiven, cancellationToken)}");
        return ExitCodeOf(code);
    }

    /// <summary>
    /// Reports a request that got no usable answer: nothing listening (or no such host) is "cannot reach"; an answer
    /// that is not brummerq's (not HTTP, not the JSON brummerq sends) is checked with the probe.
    /// </summary>
    public static async Task<int> ReportBrokenAsync(string command, Uri baseUrl, Exception exception, TextWriter error, CancellationToken cancellationToken)
    {
        var unreachable = exception is TaskCanceledException
            or HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.ProxyTunnelError or HttpRequestError.SecureConnectionError }
            or System.Net.WebSockets.WebSocketException { InnerException: HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError } };
        if (!unreachable && await NotBrummerqAsync(baseUrl, exception.Message, cancellationToken) is { } other)
        {
            await error.WriteLineAsync($"brummerq {command}: {other}");
            return ExitCodes.Failed;
        }

        await error.WriteLineAsync(ServerClientOptions.Unreachable(command, baseUrl, exception));
        return ExitCodes.Failed;
    }

    /// <summary>The exit code for a refusal with brummerq's error <paramref name="code"/> (null: not a brummerq refusal).</summary>
    public static int ExitCodeOf(string? code) =>
        code is QueueErrorCodes.InvalidArgument or QueueErrorCodes.MessageTooLarge ? ExitCodes.Usage : ExitCodes.Failed;

    /// <summary>
    /// "<c>URL is not a brummerq server: ...</c>" when the probe finds another program at <paramref name="baseUrl"/>;
    /// null when a brummerq (or nothing) answers there. <paramref name="observed"/> is what the command's own request got.
    /// </summary>
    public static async Task<string?> NotBrummerqAsync(Uri baseUrl, string observed, CancellationToken cancellationToken)
    {
        var (occupant, detail, _) = await PortProbe.ProbeAsync(baseUrl, cancellationToken);
        return occupant == PortOccupant.Other
            ? $"{baseUrl} is not a brummerq server: {detail} ({observed}). Check {ServerClientOptions.WhereToPoint}."
            : null;
    }

    /// <summary>The <c>code</c> of a brummerq problem+json body, or null when the body is not one.</summary>
    private static string? ProblemCode(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("code", out var code)
                && code.ValueKind == JsonValueKind.String
                    ? code.GetString()
                    : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
