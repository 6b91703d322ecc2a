using System.Globalization;
using System.Text.Json;
using BrummerQueue.Core;
using ModelContextProtocol.Protocol;

namespace BrummerQueue.Server.Mcp;

/// <summary>
/// The tools of SPEC.md §2 (and request/reply, acknowledged receive: docs/protocol.md) as MCP tool definitions: names, snake_case arguments, input schemas
/// with types, defaults and bounds taken from the queue's limits, output schemas, and descriptions
/// that tell a model when to consume, peek, subscribe and block.
/// </summary>
internal static class QueueToolDefinitions
{
    public const string Send = "queue_send";
    public const string Request = "queue_request";
    public const string Receive = "queue_receive";
    public const string Subscribe = "queue_subscribe";
    public const string Unsubscribe = "queue_unsubscribe";
    public const string ListChannels = "queue_list_channels";
    public const string Stats = "queue_stats";
    public const string Ack = "queue_ack";

    private const string ChannelPattern = "^[A-Za-z0-9._:/-]{1,128}$";

    // queue_subscribe's channel may be a wildcard pattern too (Core's ChannelPattern has the full rule).
    private const string SubscribeChannelPattern = "^[A-Za-z0-9._:/*>-]{1,128}$";

    private const string MessageSchema = """
        {"type":"object","properties":{
          "id":{"type":"string","description":"unique, time-ordered id"},
          "channel":{"type":"string"},
          "seq":{"type":"integer","description":"per-channel sequence number, from 1"},
          "type":{"type":"string"},
          "payload":{"description":"any JSON value"},
          "timestamp":{"type":"string","format":"date-time"},
          "ttl":{"type":"integer","description":"seconds; 0 = never expires"},
          "expires_at":{"type":["string","null"],"format":"date-time"}},
         "required":["id","channel","seq","type","payload","timestamp","ttl","expires_at"]}
        """;

    /// <summary>Builds the definitions with the bounds of <paramref name="options"/>.</summary>
    public static IReadOnlyList<Tool> Create(QueueOptions options)
    {
        var maxTtl = options.MaxTtlSeconds.ToString(CultureInfo.InvariantCulture);
        var defaultTtl = options.DefaultTtlSeconds.ToString(CultureInfo.InvariantCulture);
        var maxBuffer = options.MaxSubscriptionBufferSize.ToString(CultureInfo.InvariantCulture);
        var defaultBuffer = options.DefaultSubscriptionBufferSize.ToString(CultureInfo.InvariantCulture);
        return
        [
            new Tool
            {
                Name = Send,
                Title = "Send a message to a channel",
                Description =
                    "Send a message to a channel: to answer a web app, notify another assistant or hand work to a consumer. " +
                    "Every subscriber of the channel gets a copy; one queue_receive on the channel takes it.",
                InputSchema = Schema($$$"""
                    {"type":"object","properties":{
                      "channel":{"type":"string","minLength":1,"maxLength":128,"pattern":"{{{ChannelPattern}}}","description":"channel name: 1-128 characters from A-Z a-z 0-9 . _ - : /"},
                      "type":{"type":"string","minLength":1,"maxLength":128,"default":"message","description":"message type, e.g. 'user_event'"},
                      "payload":{"description":"any JSON value (object, array, string, number, boolean, null); default null"},
                      "ttl":{"type":"integer","minimum":0,"maximum":{{{maxTtl}}},"default":{{{defaultTtl}}},"description":"time to live in whole seconds; 0 = never expires (still bounded by the channel's capacity)"},
                      "reply_to":{"type":"string"},
                      "correlation_id":{"type":"string","description":"to answer a request: its id"}},
                     "required":["channel"],"additionalProperties":false}
                    """),
                OutputSchema = Schema($$$"""
                    {"type":"object","properties":{
                      "message":{{{MessageSchema}}},
                      "delivered_to":{"type":"integer","description":"subscriptions that got a copy"}},
                     "required":["message","delivered_to"]}
                    """),
                Annotations = new ToolAnnotations { DestructiveHint = false, OpenWorldHint = false },
            },
            new Tool
            {
                Name = Request,
                Title = "Request/reply",
                Description = "Send and wait for the first reply (responders queue_send to its reply_to with correlation_id = its id); error on timeout.",
                InputSchema = Schema($$$"""
                    {"type":"object","properties":{
                      "channel":{"type":"string"},"type":{"type":"string"},"payload":{},
                      "timeout":{"type":"number","exclusiveMinimum":0,"maximum":{{{ReceiveRequest.MaxTimeoutSeconds}}},"default":{{{ReceiveRequest.DefaultTimeoutSeconds}}}}},
                     "required":["channel"],"additionalProperties":false}
                    """),
                OutputSchema = Schema("""
                    {"type":"object","properties":{"reply":{"type":"object"},"request_id":{"type":"string"}},"required":["reply","request_id"]}
                    """),
                Annotations = new ToolAnnotations { DestructiveHint = false, OpenWorldHint = false },
            },
            new Tool
            {
                Name = Receive,
                Title = "Receive messages",
                Description =
                    "Get messages, oldest first, from a channel or from your subscription. On a channel each message goes to one receiver " +
                    "(peek=true only looks). To wait for an event instead of polling, set blocking=true: the call returns when a message arrives, " +
                    $"or empty after timeout seconds (at most {ReceiveRequest.MaxTimeoutSeconds} s). Keep timeout under your client's request timeout " +
                    "and call again to go on waiting.",
                InputSchema = Schema($$$"""
                    {"type":"object","properties":{
                      "channel":{"type":"string","minLength":1,"maxLength":128,"pattern":"{{{ChannelPattern}}}","description":"channel whose backlog to consume (or peek); give this or subscription_id, not both"},
                      "subscription_id":{"type":"string","description":"subscription to read (from queue_subscribe); give this or channel, not both"},
                      "limit":{"type":"integer","minimum":1,"maximum":{{{ReceiveRequest.MaxLimit}}},"default":{{{ReceiveRequest.DefaultLimit}}},"description":"most messages to return"},
                      "blocking":{"type":"boolean","default":false,"description":"wait for a message when none is available"},
                      "timeout":{"type":"number","minimum":0,"maximum":{{{ReceiveRequest.MaxTimeoutSeconds}}},"default":{{{ReceiveRequest.DefaultTimeoutSeconds}}},"description":"seconds a blocking call waits; stay under your client's request timeout (typically 60 s: use 50) unless it resets that timer on progress"},
                      "peek":{"type":"boolean","default":false,"description":"channel only: read without removing"},
                      "ack_timeout":{"type":"number","minimum":1,"maximum":3600,"description":"lease: hidden until queue_ack, redelivered after this many s"}},
                     "additionalProperties":false}
                    """),
                OutputSchema = Schema($$$"""
                    {"type":"object","properties":{
                      "messages":{"type":"array","items":{{{MessageSchema}}} },
                      "count":{"type":"integer"},
                      "dropped":{"type":"integer","description":"subscription only: messages lost since the previous read"}},
                     "required":["messages","count"]}
                    """),
                Annotations = new ToolAnnotations { DestructiveHint = false, OpenWorldHint = false },
            },
            new Tool
            {
                Name = Subscribe,
                Title = "Subscribe to a channel",
                Description =
                    "Follow a channel: get your own copy of every new message without taking it from other receivers, e.g. a web app's events. " +
                    "Read it with queue_receive {subscription_id}, blocking=true to wait. Ends with your session or queue_unsubscribe.",
                InputSchema = Schema($$$"""
                    {"type":"object","properties":{
                      "channel":{"type":"string","minLength":1,"maxLength":128,"pattern":"{{{SubscribeChannelPattern}}}","description":"channel to listen to, or a pattern: * one token, > the rest (app.>)"},
                      "buffer_size":{"type":"integer","minimum":1,"maximum":{{{maxBuffer}}},"default":{{{defaultBuffer}}},"description":"messages the buffer holds before dropping the oldest"},
                      "since_seq":{"type":"integer","minimum":0,"description":"resume: also deliver the retained backlog after this seq (0 = all of it)"},
                      "epoch":{"type":"string","pattern":"^[a-z0-9]{1,32}$","description":"with since_seq: the epoch that seq belongs to (from a reply or queue_list_channels); another epoch replays the whole backlog"},
                      "push":{"type":"boolean","default":false,"description":"send each message to this session as a notifications/claude/channel event (Claude Code channels) instead of waiting for queue_receive"}},
                     "required":["channel"],"additionalProperties":false}
                    """),
                OutputSchema = Schema("""
                    {"type":"object","properties":{
                      "subscription_id":{"type":"string"},
                      "channel":{"type":"string"},
                      "buffer_size":{"type":"integer"},
                      "epoch":{"type":"string","description":"the channel's epoch: seqs belong to it"},
                      "recovered":{"type":"boolean","description":"with since_seq: false means messages after it are missing (gap)"},
                      "push":{"type":"boolean"}},
                     "required":["subscription_id","channel","buffer_size"]}
                    """),
                Annotations = new ToolAnnotations { DestructiveHint = false, OpenWorldHint = false },
            },
            new Tool
            {
                Name = Unsubscribe,
                Title = "Unsubscribe",
                Description = "Stop a subscription made with queue_subscribe once you no longer need its events; its unread messages are discarded.",
                InputSchema = Schema("""
                    {"type":"object","properties":{
                      "subscription_id":{"type":"string","description":"id returned by queue_subscribe"}},
                     "required":["subscription_id"],"additionalProperties":false}
                    """),
                OutputSchema = Schema("""
                    {"type":"object","properties":{"unsubscribed":{"type":"boolean"}},"required":["unsubscribed"]}
                    """),
                Annotations = new ToolAnnotations { DestructiveHint = true, OpenWorldHint = false },
            },
            new Tool
            {
                Name = ListChannels,
                Title = "List channels",
                Description = "See which channels exist, with their message counts, subscriptions and newest seq: to find where to listen or send. Takes nothing.",
                InputSchema = Schema("""{"type":"object","properties":{},"additionalProperties":false}"""),
                OutputSchema = Schema("""
                    {"type":"object","properties":{"channels":{"type":"array","items":{"type":"object","properties":{
                      "name":{"type":"string"},"epoch":{"type":"string"},"messages":{"type":"integer"},"subscriptions":{"type":"integer"},"last_seq":{"type":"integer"}},
                      "required":["name","epoch","messages","subscriptions","last_seq"]}}},
                     "required":["channels"]}
                    """),
                Annotations = new ToolAnnotations { ReadOnlyHint = true, IdempotentHint = true, OpenWorldHint = false },
            },
            new Tool
            {
                Name = Stats,
                Title = "Queue statistics",
                Description = "Check the queue's health: totals since start (sent, consumed, expired, dropped, retained messages and bytes), per-channel figures, and each open subscription with when it was last read and when the idle limit ends it. Takes nothing.",
                InputSchema = Schema("""{"type":"object","properties":{},"additionalProperties":false}"""),
                OutputSchema = Schema("""
                    {"type":"object","properties":{
                      "total_messages":{"type":"integer"},"total_channels":{"type":"integer"},"total_subscriptions":{"type":"integer"},
                      "total_bytes":{"type":"integer"},"messages_sent":{"type":"integer"},"messages_consumed":{"type":"integer"},
                      "messages_expired":{"type":"integer"},"messages_dropped":{"type":"integer"},"messages_delivered":{"type":"integer"},
                      "uptime_seconds":{"type":"integer"},
                      "channels":{"type":"object","additionalProperties":{"type":"object"}},
                      "subscriptions":{"type":"array","items":{"type":"object"}}},
                     "required":["total_messages","total_channels","total_subscriptions","total_bytes","messages_sent","messages_consumed","messages_expired","messages_dropped","uptime_seconds","channels"]}
                    """),
                Annotations = new ToolAnnotations { ReadOnlyHint = true, IdempotentHint = true, OpenWorldHint = false },
            },
            LeaseToolDefinitions.Ack(),
        ];
    }

    /// <summary>Parses a schema written as JSON text.</summary>
    internal static JsonElement Schema(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }
}
