using System.Text.Json;
using System.Text.Json.Nodes;
using BrummerQueue.Core;
using BrummerQueue.Server.Hosting;
using BrummerQueue.Server.Protocol;
using ModelContextProtocol.Protocol;

namespace BrummerQueue.Server.Mcp;

/// <summary>
/// Runs the queue tools against the local <see cref="IMessageQueue"/>. Every refusal becomes an
/// <c>isError</c> result naming the argument and the rule; cancellation of the request (client
/// cancel, disconnect, session end) propagates, and a waiting receive takes nothing when cancelled.
/// </summary>
internal sealed partial class QueueTools
{
    private readonly IMessageQueue _queue;
    private readonly HostStopping _stopping;
    private readonly ILogger<QueueTools> _logger;
    private readonly McpSessionRegistry _sessions;

    public QueueTools(IMessageQueue queue, HostStopping stopping, ILogger<QueueTools> logger, McpSessionRegistry sessions)
    {
        _queue = queue;
        _stopping = stopping;
        _logger = logger;
        _sessions = sessions;
        Definitions = QueueToolDefinitions.Create(queue.Options);
    }

    /// <summary>The tool definitions with this queue's bounds.</summary>
    public IReadOnlyList<Tool> Definitions { get; }

    /// <summary>
    /// Runs tool <paramref name="name"/> for <paramref name="session"/> (null for a sessionless request).
    /// <paramref name="requestItems"/>, the request's <c>Items</c>, is where a consuming receive parks what it
    /// took until the response is sent (<see cref="ReceiveDelivery"/>); null counts it handed over on return.
    /// </summary>
    public async ValueTask<CallToolResult> CallAsync(string name, IDictionary<string, JsonElement>? arguments, McpSessionState? session, IDictionary<string, object?>? requestItems, CancellationToken cancellationToken)
    {
        try
        {
            return name switch
            {
                QueueToolDefinitions.Send => await SendAsync(new ToolArguments(arguments, "channel", "type", "payload", "ttl", "reply_to", "correlation_id")),
                QueueToolDefinitions.Request => await RequestAsync(new ToolArguments(arguments, "channel", "type", "payload", "timeout"), cancellationToken),
                QueueToolDefinitions.Receive => await ReceiveAsync(new ToolArguments(arguments, "channel", "subscription_id", "limit", "blocking", "timeout", "peek", "ack_timeout"), session, requestItems, cancellationToken),
                QueueToolDefinitions.Subscribe => Subscribe(new ToolArguments(arguments, "channel", "buffer_size", "since_seq", "epoch", "push"), session),
                QueueToolDefinitions.Unsubscribe => Unsubscribe(new ToolArguments(arguments, "subscription_id"), session),
                QueueToolDefinitions.ListChannels => ListChannels(new ToolArguments(arguments)),
                QueueToolDefinitions.Stats => Stats(new ToolArguments(arguments)),
                QueueToolDefinitions.Ack => Ack(new ToolArguments(arguments, "channel", "message_ids"), session),
                ReceiveDelivery.PutBackTool => PutBack(new ToolArguments(arguments, "receipt"), session),
                _ => ToolResults.Error($"unknown tool '{name}'; the tools are queue_send, queue_request, queue_receive, queue_subscribe, queue_unsubscribe, queue_list_channels, queue_stats"),
            };
        }
        catch (QueueException e)
        {
            LogRefused(name, e.Code, e.Message);
            return ToolResults.Error(e);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Boundary of one tool call: log, answer clearly, keep serving.
            LogFailed(name, e);
            return ToolResults.Error($"{name} failed inside brummerq ({e.GetType().Name}: {e.Message}); the queue is unchanged by this call");
        }
    }

    private async ValueTask<CallToolResult> SendAsync(ToolArguments args)
    {
        var channel = args.String("channel", "1-128 characters from A-Z a-z 0-9 . _ - : /")
            ?? throw QueueException.Invalid("channel", "channel is required and must be 1-128 characters from A-Z a-z 0-9 . _ - : /");
        var type = args.String("type", "1-128 characters");
        var maxTtl = _queue.Options.MaxTtlSeconds;
        var ttl = args.Integer("ttl", () => QueueException.OutOfRange("ttl", 0, maxTtl));
        var payload = args.TryGet("payload", out var element) ? JsonPayload.FromElement(element) : JsonPayload.Null;
        var result = await _queue.SendAsync(channel, new MessageDraft(type, payload, ttl) { ReplyTo = args.String("reply_to", "a channel name"), CorrelationId = args.String("correlation_id", "1-128 characters") });
        return ToolResults.Json(w =>
        {
            w.WriteStartObject();
            w.WritePropertyName("message");
            MessageJson.WriteMessage(w, result.Message);
            w.WriteNumber("delivered_to", result.DeliveredTo);
            w.WriteEndObject();
        });
    }

    private async ValueTask<CallToolResult> ReceiveAsync(ToolArguments args, McpSessionState? session, IDictionary<string, object?>? requestItems, CancellationToken cancellationToken)
    {
        var channel = args.String("channel", "1-128 characters from A-Z a-z 0-9 . _ - : /");
        var subscriptionId = args.String("subscription_id", "an id returned by queue_subscribe");
        var limit = args.Integer("limit", () => QueueException.OutOfRange("limit", 1, ReceiveRequest.MaxLimit));
        var timeout = args.Number("timeout", () => QueueException.Invalid("timeout", $"timeout must be a number of seconds between 0 and {ReceiveRequest.MaxTimeoutSeconds}"));
        var request = new ReceiveRequest
        {
            Channel = channel,
            SubscriptionId = subscriptionId,
            Limit = ToolArguments.ToInt(limit) ?? ReceiveRequest.DefaultLimit,
            Blocking = args.Boolean("blocking", false),
            TimeoutSeconds = timeout ?? ReceiveRequest.DefaultTimeoutSeconds,
            Peek = args.Boolean("peek", false),
            AckTimeoutSeconds = AckTimeout(args),
            Owner = session?.Owner,
        };
        if (channel is null && subscriptionId is null)
        {
            throw QueueException.Invalid("channel", "exactly one of channel and subscription_id is required");
        }

        if (subscriptionId is not null)
        {
            EnsureOwned(subscriptionId, session);
        }

        var result = await _stopping.ReceiveAsync(_queue, request, cancellationToken);
        CallToolResult reply;
        try
        {
            reply = ReceiveReply(result);
        }
        catch
        {
            // The reply cannot be written, so nothing was handed over: what was taken goes back (SPEC.md §1).
            _queue.PutBack(result);
            throw;
        }

        if (cancellationToken.IsCancellationRequested)
        {
            // Cancelled after the take (the client cancelled or went away): nobody receives this reply.
            _queue.PutBack(result);
            cancellationToken.ThrowIfCancellationRequested();
        }

        var held = new HeldReceive(_queue, result);
        if (session is not null && result.Source is not null && ReceiveDelivery.ReceiptRequested(requestItems))
        {
            // Attach mode: the forwarding process gets a receipt to put these back if its own client never gets them.
            reply.Meta = new JsonObject { [ReceiveDelivery.ReceiptMeta] = session.KeepReceipt(held, ReceiveDelivery.ChosenReceipt(requestItems)) };
        }

        if (result.Source is not null)
        {
            ReceiveDelivery.Hold(requestItems, held);
        }

        return reply;
    }

    private static CallToolResult ReceiveReply(ReceiveResult result)
    {
        return ToolResults.Json(w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("messages");
            foreach (var message in result.Messages)
            {
                MessageJson.WriteMessage(w, message);
            }

            w.WriteEndArray();
            w.WriteNumber("count", result.Messages.Count);
            if (result.Dropped is { } dropped)
            {
                w.WriteNumber("dropped", dropped);
            }

            w.WriteEndObject();
        });
    }

    /// <summary>Attach mode's hidden tool: puts back what a receipt of this session names (<see cref="ReceiveDelivery.PutBackTool"/>).</summary>
    private static CallToolResult PutBack(ToolArguments args, McpSessionState? session)
    {
        var receipt = args.String("receipt", "a receipt from queue_receive's _meta")
            ?? throw QueueException.Invalid("receipt", "receipt is required: the id in queue_receive's _meta");
        var held = session?.TakeReceipt(receipt)
            ?? throw new QueueException(QueueErrorCodes.NotFound, "receipt", $"receipt '{receipt}' is unknown to this session, was used already, or is no longer kept");
        var result = held.PutBack() ?? PutBackResult.None;
        return ToolResults.Json(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("restored", result.Restored);
            w.WriteNumber("expired", result.Expired);
            w.WriteNumber("dropped", result.Dropped);
            w.WriteEndObject();
        });
    }

    private CallToolResult Subscribe(ToolArguments args, McpSessionState? session)
    {
        var channel = args.String("channel", "1-128 characters from A-Z a-z 0-9 . _ - : /")
            ?? throw QueueException.Invalid("channel", "channel is required and must be 1-128 characters from A-Z a-z 0-9 . _ - : /");
        var maxBuffer = _queue.Options.MaxSubscriptionBufferSize;
        var bufferSize = args.Integer("buffer_size", () => QueueException.OutOfRange("buffer_size", 1, maxBuffer));
        var sinceSeq = args.Integer("since_seq", () => QueueException.Invalid("since_seq", WireFields.SinceSeqRule));
        var epoch = args.String("epoch", "the epoch a queue_subscribe reply or queue_list_channels gave with since_seq");
        var push = args.Boolean("push", false);
        if (push && session is null)
        {
            throw QueueException.Invalid("push", "push: true needs an MCP session to send channel events to: connect over stdio, or over Streamable HTTP with the initialize handshake");
        }

        var subscription = _queue.Subscribe(channel, new SubscribeOptions
        {
            BufferSize = ToolArguments.ToInt(bufferSize),
            SinceSeq = sinceSeq,
            Epoch = epoch,
            Owner = session?.Owner,
        });
        session?.AddSubscription(subscription.Id);
        if (push)
        {
            _sessions.StartPush(session!, subscription);
        }

        return ToolResults.Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("subscription_id", subscription.Id);
            w.WriteString("channel", subscription.Channel);
            w.WriteNumber("buffer_size", subscription.BufferSize);
            if (!ChannelPattern.IsPattern(subscription.Channel))
            {
                w.WriteString("epoch", subscription.Epoch);
            }

            if (subscription.Recovered is { } recovered)
            {
                w.WriteBoolean("recovered", recovered);
            }

            if (push)
            {
                w.WriteBoolean("push", true);
            }

            w.WriteEndObject();
        });
    }

    private CallToolResult Unsubscribe(ToolArguments args, McpSessionState? session)
    {
        var id = args.String("subscription_id", "an id returned by queue_subscribe")
            ?? throw QueueException.Invalid("subscription_id", "subscription_id is required: the id returned by queue_subscribe");
        EnsureOwned(id, session);
        if (!_queue.Unsubscribe(id))
        {
            throw new QueueException(QueueErrorCodes.NotFound, "subscription_id", $"subscription_id '{id}' does not exist: it was never created, was unsubscribed, or expired after being idle");
        }

        session?.RemoveSubscription(id);
        return ToolResults.Json(w =>
        {
            w.WriteStartObject();
            w.WriteBoolean("unsubscribed", true);
            w.WriteEndObject();
        });
    }

    /// <summary>
    /// A subscription is read or closed only by the session that made it (or, for one without owner, by anyone):
    /// ids are time-ordered, not secret, so another session, or a sessionless (2026-07-28) request, must not drain or close it.
    /// </summary>
    private void EnsureOwned(string subscriptionId, McpSessionState? session)
    {
        if (_queue.TryGetSubscription(subscriptionId, out var subscription) &&
            subscription.Owner is { } owner &&
            !string.Equals(owner, session?.Owner, StringComparison.Ordinal))
        {
            throw new QueueException(QueueErrorCodes.NotFound, "subscription_id", $"subscription_id '{subscriptionId}' belongs to another MCP session or WebSocket connection; subscribe with queue_subscribe to get your own");
        }
    }

    private CallToolResult ListChannels(ToolArguments args)
    {
        _ = args;
        var channels = _queue.ListChannels();
        return ToolResults.Json(w => MessageJson.WriteChannelList(w, channels));
    }

    private CallToolResult Stats(ToolArguments args)
    {
        _ = args;
        var stats = _queue.GetStats();
        return ToolResults.Json(w => MessageJson.WriteStats(w, stats));
    }

    [LoggerMessage(EventId = McpLogEvents.ToolRefused, Level = LogLevel.Debug, Message = "Tool {Tool} refused ({Code}): {Reason}")]
    private partial void LogRefused(string tool, string code, string reason);

    [LoggerMessage(EventId = McpLogEvents.ToolFailed, Level = LogLevel.Error, Message = "Tool {Tool} failed")]
    private partial void LogFailed(string tool, Exception exception);
}
