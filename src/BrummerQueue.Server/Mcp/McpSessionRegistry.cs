using System.Collections.Concurrent;
using BrummerQueue.Core;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace BrummerQueue.Server.Mcp;

/// <summary>
/// The live MCP sessions of this process. It ties queue subscriptions to their session (removed
/// with <see cref="IMessageQueue.UnsubscribeOwner"/> when the session ends: stdio exit, HTTP
/// DELETE or idle expiry) and pushes <c>notifications/resources/updated</c> to sessions that
/// subscribed to a channel or subscription resource when <see cref="IMessageQueue.MessageStored"/> fires, and to
/// open <c>subscriptions/listen</c> streams of the sessionless 2026-07-28 revision (<see cref="ResourceListen"/>).
/// Push subscriptions of a session send their messages as channel events through its <see cref="ChannelPush"/>.
/// </summary>
internal sealed partial class McpSessionRegistry : IDisposable
{
    /// <summary>Key of the single stdio session.</summary>
    public const string StdioKey = "stdio";

    private readonly IMessageQueue _queue;
    private readonly ILogger<McpSessionRegistry> _logger;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, McpSessionState> _sessions = new(StringComparer.Ordinal);

    // Open subscriptions/listen streams (2026-07-28): each is a state with resources but no owner or session id.
    private readonly ConcurrentDictionary<McpSessionState, byte> _listeners = new();

    // Resource subscriptions across all sessions; lets MessageStored return at once when nobody listens.
    private int _resourceSubscriptions;

    // Notification sends running (at most one per session and resource, see McpSessionState.TryBeginUpdate). Interlocked.
    private int _notificationsInFlight;

    public McpSessionRegistry(IMessageQueue queue, ILogger<McpSessionRegistry> logger, TimeProvider? time = null)
    {
        _queue = queue;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _queue.MessageStored += OnMessageStored;
    }

    /// <summary>Sessions currently known.</summary>
    public int Count => _sessions.Count;

    /// <summary>Resource update notifications being sent now, across all sessions.</summary>
    public int NotificationsInFlight => Volatile.Read(ref _notificationsInFlight);

    /// <summary>
    /// The state of the session a request belongs to: its HTTP session id, or the stdio session.
    /// Null for a sessionless request (Streamable HTTP without a session): its subscriptions have no
    /// owner and end by idle expiry.
    /// </summary>
    public McpSessionState? Resolve(MessageContext context)
    {
        var server = context.Server;
        var key = server.SessionId;
        if (key is null && context.Services?.GetService<IHttpContextAccessor>()?.HttpContext is null)
        {
            // Not an HTTP request: the process's one stdio session.
            key = StdioKey;
        }

        if (key is null)
        {
            return null;
        }

        var state = _sessions.GetOrAdd(key, static (k, s) => new McpSessionState(k, s), server);
        state.AttachServer(server);
        return state;
    }

    /// <summary>
    /// Whether <paramref name="sessionId"/> names a live Streamable HTTP session: registered by
    /// <see cref="Begin"/> before its id reaches the client, removed by <see cref="End"/> when the SDK
    /// ended it (a request in between, while the SDK is ending it, gets the SDK's own 404).
    /// </summary>
    public bool IsHttpSession(string sessionId) =>
        !string.Equals(sessionId, StdioKey, StringComparison.Ordinal) && _sessions.ContainsKey(sessionId);

    /// <summary>The live HTTP session <paramref name="sessionId"/>, or null.</summary>
    public McpSessionState? Find(string sessionId) => _sessions.TryGetValue(sessionId, out var state) ? state : null;

    /// <summary>Registers an HTTP session when it starts, with the session-wide server used for pushes.</summary>
    public void Begin(McpServer server)
    {
        if (server.SessionId is { } key)
        {
            _sessions.TryAdd(key, new McpSessionState(key, server));
            LogSessionStarted(key);
        }
    }

    /// <summary>
    /// The stdio session's state with <paramref name="server"/> for its notifications, before its first request
    /// (<c>brummerq mcp --wake</c> subscribes it at start).
    /// </summary>
    public McpSessionState Stdio(McpServer server)
    {
        var state = _sessions.GetOrAdd(StdioKey, static (k, s) => new McpSessionState(k, s), server);
        state.AttachServer(server);
        return state;
    }

    /// <summary>
    /// Sends <paramref name="subscription"/>'s messages to <paramref name="session"/>'s client as channel events
    /// (<see cref="ChannelPush"/>). <paramref name="open"/> false holds them until <see cref="ChannelPush.Open"/>.
    /// </summary>
    public void StartPush(McpSessionState session, Subscription subscription, bool open = true)
    {
        var push = session.GetOrCreatePush(() => new ChannelPush(session, open, _time, _logger));
        push.Start(subscription);
    }

    /// <summary>Ends a session: removes its queue subscriptions and its resource subscriptions.</summary>
    public void End(string? key)
    {
        if (key is null || !_sessions.TryRemove(key, out var state))
        {
            return;
        }

        Interlocked.Add(ref _resourceSubscriptions, -state.ResourceCount);
        var removed = _queue.UnsubscribeOwner(state.Owner);
        state.Push?.Dispose();
        LogSessionEnded(key, removed);
    }

    /// <summary>Opens a <c>subscriptions/listen</c> stream of request <paramref name="id"/>, whose updates go through <paramref name="server"/> (bound to that request).</summary>
    public McpSessionState BeginListen(McpServer server, RequestId id)
    {
        var listener = new McpSessionState("listen:" + id, server) { ListenId = id };
        _listeners.TryAdd(listener, 0);
        return listener;
    }

    /// <summary>Closes a listen stream: its resources get no more updates.</summary>
    public void EndListen(McpSessionState listener)
    {
        if (_listeners.TryRemove(listener, out _))
        {
            foreach (var (uri, _) in listener.Resources)
            {
                RemoveResource(listener, uri);
            }
        }
    }

    /// <summary>Open <c>subscriptions/listen</c> streams.</summary>
    public int ListenerCount => _listeners.Count;

    /// <summary>Records that <paramref name="session"/> wants updates of <paramref name="uri"/>, which <paramref name="channel"/>'s messages change.</summary>
    public void AddResource(McpSessionState session, string uri, string channel)
    {
        if (session.AddResource(uri, channel))
        {
            Interlocked.Increment(ref _resourceSubscriptions);
        }
    }

    /// <summary>Stops updates of <paramref name="uri"/> to <paramref name="session"/>.</summary>
    public void RemoveResource(McpSessionState session, string uri)
    {
        if (session.RemoveResource(uri))
        {
            Interlocked.Decrement(ref _resourceSubscriptions);
        }
    }

    public void Dispose()
    {
        _queue.MessageStored -= OnMessageStored;
        foreach (var key in _sessions.Keys)
        {
            End(key);
        }
    }

    // Runs on the sender's thread outside the queue's locks: only finds listeners and starts sends.
    private void OnMessageStored(QueueMessage message)
    {
        if (Volatile.Read(ref _resourceSubscriptions) == 0)
        {
            return;
        }

        foreach (var session in _sessions.Values)
        {
            Announce(session, message);
        }

        foreach (var listener in _listeners.Keys)
        {
            Announce(listener, message);
        }
    }

    private void Announce(McpSessionState session, QueueMessage message)
    {
        if (session.ResourceCount == 0 || session.Server is not { } server)
        {
            return;
        }

        foreach (var (uri, channel) in session.Resources)
        {
            if ((string.Equals(channel, message.Channel, StringComparison.Ordinal) || (ChannelPattern.IsPattern(channel) && ChannelPattern.Matches(channel, message.Channel))) && session.TryBeginUpdate(uri))
            {
                _ = NotifyAsync(server, session, uri);
            }
        }
    }

    /// <summary>Sends the update of <paramref name="uri"/>, and once more for each time it changed meanwhile (coalesced).</summary>
    private async Task NotifyAsync(McpServer server, McpSessionState session, string uri)
    {
        Interlocked.Increment(ref _notificationsInFlight);
        try
        {
            do
            {
                if (uri.StartsWith(QueueResources.SubscriptionPrefix, StringComparison.Ordinal) &&
                    !_queue.TryGetSubscription(QueueResources.ParseSubscriptionId(uri), out _))
                {
                    RemoveResource(session, uri);
                    return;
                }

                try
                {
                    await server.SendMessageAsync(ResourceListen.Updated(uri, session.ListenId));
                }
                catch (Exception e)
                {
                    // A closed session cannot be notified; it is removed when its end is reported.
                    LogNotificationFailed(session.Key, uri, e);
                }
            }
            while (session.EndUpdate(uri));
        }
        finally
        {
            Interlocked.Decrement(ref _notificationsInFlight);
        }
    }

    [LoggerMessage(EventId = McpLogEvents.SessionStarted, Level = LogLevel.Debug, Message = "MCP session {Session} started")]
    private partial void LogSessionStarted(string session);

    [LoggerMessage(EventId = McpLogEvents.SessionEnded, Level = LogLevel.Debug, Message = "MCP session {Session} ended; {Removed} subscriptions removed")]
    private partial void LogSessionEnded(string session, int removed);

    [LoggerMessage(EventId = McpLogEvents.NotificationFailed, Level = LogLevel.Debug, Message = "Could not notify MCP session {Session} about {Uri}")]
    private partial void LogNotificationFailed(string session, string uri, Exception exception);
}
