using System.Text.Json;
using BrummerQueue.Core;
using BrummerQueue.Server.Protocol;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace BrummerQueue.Server.Mcp;

/// <summary>
/// Channels and subscriptions as MCP resources. Reading <c>brummerq://channels/{name}</c> peeks the
/// channel's newest messages (nothing is consumed); reading <c>brummerq://subscriptions/{id}</c>
/// shows the subscription's state and takes nothing from its buffer (use queue_receive for that).
/// </summary>
internal sealed class QueueResources
{
    public const string ChannelPrefix = "brummerq://channels/";
    public const string SubscriptionPrefix = "brummerq://subscriptions/";

    /// <summary>How many of a channel's newest messages a read shows.</summary>
    public const int ReadLimit = 50;

    private const string JsonMime = "application/json";

    private readonly IMessageQueue _queue;

    public QueueResources(IMessageQueue queue) => _queue = queue;

    public static ListResourceTemplatesResult Templates() => new()
    {
        ResourceTemplates =
        [
            new ResourceTemplate
            {
                UriTemplate = ChannelPrefix + "{name}",
                Name = "channel",
                Title = "Channel",
                MimeType = JsonMime,
                Description = $"A channel: its figures and up to {ReadLimit} newest messages, read without consuming (peek). Subscribe to be notified of each new message.",
            },
            new ResourceTemplate
            {
                UriTemplate = SubscriptionPrefix + "{id}",
                Name = "subscription",
                Title = "Subscription",
                MimeType = JsonMime,
                Description = "A subscription made with queue_subscribe: its channel and buffer size. Reading takes nothing; subscribe to be notified when a message reaches it, then call queue_receive with subscription_id.",
            },
        ],
    };

    public static string ParseSubscriptionId(string uri) => Uri.UnescapeDataString(uri[SubscriptionPrefix.Length..]);

    /// <summary>Lists every live channel, and the subscriptions of <paramref name="session"/>.</summary>
    public ListResourcesResult List(McpSessionState? session)
    {
        var result = new ListResourcesResult();
        foreach (var channel in _queue.ListChannels())
        {
            result.Resources.Add(new Resource
            {
                Uri = ChannelPrefix + channel.Name,
                Name = channel.Name,
                MimeType = JsonMime,
                Description = $"channel with {channel.Messages} messages, {channel.Subscriptions} subscriptions, last seq {channel.LastSeq} (epoch {channel.Epoch})",
            });
        }

        foreach (var id in session?.SubscriptionIds ?? [])
        {
            if (_queue.TryGetSubscription(id, out var subscription))
            {
                result.Resources.Add(new Resource
                {
                    Uri = SubscriptionPrefix + id,
                    Name = "subscription " + id,
                    MimeType = JsonMime,
                    Description = $"your subscription to channel {subscription.Channel}",
                });
            }
        }

        return result;
    }

    /// <summary>
    /// Completes a template argument: channel names for <c>{name}</c>, the session's own subscription
    /// ids for <c>{id}</c>, those starting with what was typed, in ordinal order, at most 100.
    /// </summary>
    public CompleteResult Complete(CompleteRequestParams? request, McpSessionState? session)
    {
        const int Max = 100;
        var typed = request?.Argument?.Value ?? string.Empty;
        IEnumerable<string> candidates = (request?.Ref as ResourceTemplateReference)?.Uri switch
        {
            ChannelPrefix + "{name}" when request?.Argument?.Name == "name" => _queue.ListChannels().Select(c => c.Name),
            SubscriptionPrefix + "{id}" when request?.Argument?.Name == "id" => (session?.SubscriptionIds ?? []).Order(StringComparer.Ordinal),
            _ => [],
        };
        var matches = candidates.Where(c => c.StartsWith(typed, StringComparison.Ordinal)).ToList();
        return new CompleteResult
        {
            Completion = new Completion { Values = [.. matches.Take(Max)], Total = matches.Count, HasMore = matches.Count > Max },
        };
    }

    /// <summary>Reads a resource; an unknown or malformed URI is a protocol error naming it.</summary>
    public ReadResourceResult Read(string? uri)
    {
        var (channel, subscription) = Resolve(uri);
        var text = subscription is null ? ReadChannel(channel) : ReadSubscription(subscription);
        return new ReadResourceResult
        {
            Contents = [new TextResourceContents { Uri = uri!, MimeType = JsonMime, Text = text }],
        };
    }

    /// <summary>The channel whose messages update <paramref name="uri"/>.</summary>
    public string ChannelOf(string? uri) => Resolve(uri).Channel;

    private (string Channel, Subscription? Subscription) Resolve(string? uri)
    {
        if (uri is not null && uri.StartsWith(ChannelPrefix, StringComparison.Ordinal))
        {
            var name = Uri.UnescapeDataString(uri[ChannelPrefix.Length..]);
            try
            {
                _ = _queue.Receive(name, 1, peek: true, []);
            }
            catch (QueueException e)
            {
                throw new McpProtocolException($"{uri}: {e.Message}", McpErrorCode.InvalidParams);
            }

            return (name, null);
        }

        if (uri is not null && uri.StartsWith(SubscriptionPrefix, StringComparison.Ordinal))
        {
            var id = ParseSubscriptionId(uri);
            return _queue.TryGetSubscription(id, out var subscription)
                ? (subscription.Channel, subscription)
                : throw new McpProtocolException($"{uri}: subscription '{id}' does not exist: it was never created, was unsubscribed, or ended with its session", McpErrorCode.ResourceNotFound);
        }

        throw new McpProtocolException($"unknown resource '{uri}'; brummerq resources are {ChannelPrefix}{{name}} and {SubscriptionPrefix}{{id}}", McpErrorCode.ResourceNotFound);
    }

    private string ReadChannel(string name)
    {
        var info = _queue.ListChannels().FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.Ordinal));
        var messages = new List<QueueMessage>();
        if (info is { Messages: > 0 })
        {
            _queue.PeekNewest(name, ReadLimit, messages);
        }

        return Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("channel", name);
            if (info is not null)
            {
                w.WriteString("epoch", info.Epoch);
            }

            w.WriteNumber("messages", info?.Messages ?? 0);
            w.WriteNumber("subscriptions", info?.Subscriptions ?? 0);
            w.WriteNumber("last_seq", info?.LastSeq ?? 0);
            w.WriteStartArray("newest");
            foreach (var message in messages)
            {
                MessageJson.WriteMessage(w, message);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    private static string ReadSubscription(Subscription subscription) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("subscription_id", subscription.Id);
        w.WriteString("channel", subscription.Channel);
        w.WriteNumber("buffer_size", subscription.BufferSize);
        if (!ChannelPattern.IsPattern(subscription.Channel))
        {
            w.WriteString("epoch", subscription.Epoch);
        }

        w.WriteBoolean("closed", subscription.IsClosed);
        w.WriteString("read_with", $"queue_receive {{\"subscription_id\":\"{subscription.Id}\"}}");
        w.WriteEndObject();
    });

    private static string Write(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, WireJson.WriterOptions))
        {
            write(writer);
        }

        return System.Text.Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }
}
