using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace BrummerQueue.Server.Tests.Mcp;

/// <summary>
/// What a Claude Code channels client sees: collects the <c>notifications/claude/channel</c> events a real SDK client
/// receives, checking each has a string <c>content</c> and a <c>meta</c> of string values with identifier keys.
/// </summary>
internal sealed class ChannelEventCollector
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private readonly Channel<(string Content, Dictionary<string, string> Meta)> _events = Channel.CreateUnbounded<(string, Dictionary<string, string>)>();

    /// <summary>Client options whose handler collects the events.</summary>
    public McpClientOptions ClientOptions() => new()
    {
        InitializationTimeout = TimeSpan.FromSeconds(30),
        Handlers = new McpClientHandlers
        {
            NotificationHandlers = [new("notifications/claude/channel", (notification, _) =>
            {
                _events.Writer.TryWrite(Parse(notification));
                return ValueTask.CompletedTask;
            })],
        },
    };

    /// <summary>The next event; fails the test after <see cref="Timeout"/>.</summary>
    public async Task<(string Content, Dictionary<string, string> Meta)> NextAsync()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(Timeout);
        return await _events.Reader.ReadAsync(timeout.Token);
    }

    /// <summary>An event already received, if any.</summary>
    public bool TryNext(out (string Content, Dictionary<string, string> Meta) next) => _events.Reader.TryRead(out next);

    /// <summary>The messages of an event's content: its first line is one message or an array of them.</summary>
    public static List<JsonElement> Messages(string content)
    {
        var firstLine = content.Split('\n')[0];
        var root = JsonDocument.Parse(firstLine).RootElement;
        return root.ValueKind == JsonValueKind.Array ? [.. root.EnumerateArray()] : [root];
    }

    private static (string, Dictionary<string, string>) Parse(JsonRpcNotification notification)
    {
        var parameters = Assert.IsType<JsonObject>(notification.Params);
        var content = parameters["content"]!.GetValue<string>();
        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in Assert.IsType<JsonObject>(parameters["meta"]))
        {
            Assert.Matches("^[A-Za-z0-9_]+$", key);
            Assert.Equal(JsonValueKind.String, value!.GetValueKind());
            meta[key] = value.GetValue<string>();
        }

        return (content, meta);
    }
}
