using System.CommandLine;
using System.Text;
using System.Text.Json;
using BrummerQueue.Core;

using BrummerQueue.Server.Protocol;

namespace BrummerQueue.Server.Cli;

/// <summary><c>brummerq send CHANNEL PAYLOAD_JSON</c>: sends one message to a running server and prints the stored message.</summary>
internal static class SendCommand
{
    public static Command Create()
    {
        var channel = new Argument<string>("CHANNEL") { Description = "Channel to send to" };
        var payload = new Argument<string>("PAYLOAD_JSON") { Description = "The payload, one JSON value (quote strings: '\"hello\"')" };
        var type = new Option<string?>("--type") { Description = "Message type [default: message]" };
        var ttl = new Option<long?>("--ttl")
        {
            Description = "Time to live in seconds, 0 = never expires [default: the server's, 3600]",
            CustomParser = result => ServerClientOptions.ParseInteger(result, $"ttl must be an integer between 0 and {new QueueOptions().MaxTtlSeconds}"),
        };
        var host = ServerClientOptions.CreateHostOption();
        var port = ServerClientOptions.CreatePortOption();
        var url = ServerClientOptions.CreateUrlOption(host, port);
        var token = ServerClientOptions.CreateTokenOption();
        var command = new Command("send", "Send a message to a running brummerq server and print the stored message as JSON.")
        {
            channel, payload, type, ttl, url, host, port, token,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var payloadText = parse.GetRequiredValue(payload);
            try
            {
                // Only "is it JSON", for the quoting hint: the server checks the payload rule (depth included).
                using var _ = JsonDocument.Parse(payloadText, new JsonDocumentOptions { MaxDepth = int.MaxValue });
            }
            catch (JsonException ex)
            {
                await error.WriteLineAsync($"brummerq send: payload must be a single valid JSON value ({Position(ex)}); to send a string, quote it: '\"text\"'");
                return ExitCodes.Usage;
            }

            var body = BuildBody(parse.GetValue(type), payloadText, parse.GetValue(ttl));
            var baseUrl = parse.GetRequiredValue(url);
            var tokenValue = ServerClientOptions.GetToken(parse, token);
            using var client = ServerClientOptions.CreateHttpClient(baseUrl, tokenValue);
            try
            {
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new("application/json");
                using var response = await client.PostAsync(ServerClientOptions.MessagesPath(parse.GetRequiredValue(channel)), content, cancellationToken);
                if (!response.IsSuccessStatusCode)
                {
                    return await ServerAnswer.ReportErrorAsync("send", baseUrl, response, tokenValue is not null, error, cancellationToken);
                }

                using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken), PayloadEnvelope.AnyReplyOptions);
                await output.WriteLineAsync(document.RootElement.GetProperty("message").GetRawText());
                return ExitCodes.Ok;
            }
            catch (Exception ex) when (ex is HttpRequestException or JsonException or KeyNotFoundException or InvalidOperationException
                || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                // Unreachable, timed out, or an answer that is not brummerq's stored message.
                return await ServerAnswer.ReportBrokenAsync("send", baseUrl, ex, error, cancellationToken);
            }
        });
        return command;
    }

    /// <summary>Where the payload stopped being JSON, without the parser's internals.</summary>
    private static string Position(JsonException ex) =>
        ex.LineNumber is > 0 ? $"at line {ex.LineNumber + 1}, byte {ex.BytePositionInLine}" : $"at byte {ex.BytePositionInLine ?? 0}";

    private static byte[] BuildBody(string? type, string payloadJson, long? ttl)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, WireJson.WriterOptions))
        {
            writer.WriteStartObject();
            if (type is not null)
            {
                writer.WriteString("type", type);
            }

            writer.WritePropertyName("payload");
            writer.WriteRawValue(Encoding.UTF8.GetBytes(payloadJson), skipInputValidation: true);
            if (ttl is not null)
            {
                writer.WriteNumber("ttl", ttl.Value);
            }

            writer.WriteEndObject();
        }

        return stream.ToArray();
    }
}
