using System.Threading.Channels;
using BrummerQueue.Core;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace BrummerQueue.Server.Mcp;

/// <summary>
/// Sends one MCP session's push subscriptions (<c>queue_subscribe {push: true}</c>, <c>brummerq mcp --wake</c>) to its
/// client as <c>notifications/claude/channel</c> events (<see cref="ChannelEvent"/>). Each subscription has a pump that
/// waits for its messages; the session's events go out one at a time, spaced by at least <see cref="Interval"/>, so
/// messages arriving meanwhile are coalesced into the next event. An event lists at most <see cref="ChannelEvent.MaxMessages"/>;
/// the rest stay in the subscription (the event says how many) and the spacing doubles, up to <see cref="MaxInterval"/>,
/// while events keep leaving messages behind, so a flood gives a few events, not one per message. What an event lists
/// is taken from the subscription once the transport accepted it; a send that fails puts it back (with the dropped
/// count it reported) and is tried again after the next spacing. Thread-safe.
/// </summary>
internal sealed partial class ChannelPush : IDisposable
{
    /// <summary>Least time between two events of one session.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    /// <summary>Most time between two events of one session while messages keep waiting.</summary>
    public static readonly TimeSpan MaxInterval = TimeSpan.FromSeconds(30);

    private readonly McpSessionState _session;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    // Cancelled when the session ends: every pump stops (a subscription's own end stops its pump too).
    // _stopping is read once here, so a pump started after Dispose still sees it cancelled.
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationToken _stopping;

    // Completed when the client may get notifications (after its initialize handshake).
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // The session's turn to send, a single token: one event at a time. _nextAt and _interval are read and written only by its holder.
    private readonly Channel<bool> _turn = Channel.CreateBounded<bool>(1);
    private long _nextAt;
    private TimeSpan _interval = Interval;

    /// <param name="session">The session: its server sends, and over HTTP its GET stream must be open.</param>
    /// <param name="open">False when the client has not initialized yet: pumps wait for <see cref="Open"/>.</param>
    /// <param name="time">The clock of the spacing.</param>
    /// <param name="logger">Where failed sends are logged (Debug).</param>
    public ChannelPush(McpSessionState session, bool open, TimeProvider time, ILogger logger)
    {
        _stopping = _stop.Token;
        _turn.Writer.TryWrite(true);
        _session = session;
        _time = time;
        _logger = logger;
        if (open)
        {
            _open.TrySetResult();
        }
    }

    /// <summary>Pushes <paramref name="subscription"/>'s messages until it or the session ends.</summary>
    public void Start(Subscription subscription) => _ = PumpAsync(subscription);

    /// <summary>Lets pumps send: the client finished its initialize handshake.</summary>
    public void Open() => _open.TrySetResult();

    /// <summary>Stops every pump (the session ended). A pump in the middle of a send puts its messages back.</summary>
    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
    }

    private async Task PumpAsync(Subscription subscription)
    {
        var token = _stopping;
        var taken = new List<QueueMessage>();
        try
        {
            await _open.Task.WaitAsync(token);
            while (await subscription.WaitToReadAsync(token))
            {
                await _turn.Reader.ReadAsync(token);
                try
                {
                    var wait = _time.GetElapsedTime(_time.GetTimestamp(), _nextAt);
                    if (_nextAt != 0 && wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait, _time, token);
                    }

                    // Over HTTP only while the client listens: the SDK drops a notification without a GET stream.
                    await _session.WhenListening().WaitAsync(token);
                    taken.Clear();
                    await SendOneAsync(subscription, taken, token);
                    _nextAt = _time.GetTimestamp() + (long)(_interval.TotalSeconds * _time.TimestampFrequency);
                }
                finally
                {
                    _turn.Writer.TryWrite(true);
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // The session ended.
        }
        catch (Exception e)
        {
            // Boundary of one pump: the subscription stays readable with queue_receive.
            LogPumpFailed(_session.Key, subscription.Id, e);
        }
    }

    /// <summary>Takes what the subscription holds, sends the first of it as one event, and puts back the rest (or all of it when the send fails).</summary>
    private async Task SendOneAsync(Subscription subscription, List<QueueMessage> taken, CancellationToken token)
    {
        var dropped = await subscription.ReadBatchAsync(subscription.BufferSize, taken, token);
        if (taken.Count == 0)
        {
            // Only expired messages were there; a dropped count is kept for the next read.
            subscription.PutBack([], dropped);
            return;
        }

        var listedCount = ChannelEvent.CountListed(taken);
        var listed = taken.GetRange(0, listedCount);
        var more = 0;
        if (taken.Count > listedCount)
        {
            more = subscription.PutBack(taken.GetRange(listedCount, taken.Count - listedCount), 0).Restored;
        }

        try
        {
            var server = _session.Server ?? throw new InvalidOperationException("the session's server is not known yet");
            var closedBefore = _session.StreamsClosed;
            await server.SendMessageAsync(
                new JsonRpcNotification { Method = ChannelEvent.Method, Params = ChannelEvent.Params(subscription, listed, more, dropped) },
                token);
            if (_session.StreamsClosed != closedBefore)
            {
                // A GET stream closed while this was written: it may not have arrived, so it is sent again (a duplicate at worst).
                throw new InvalidOperationException("the client's GET stream closed while the event was sent");
            }

            _interval = more > 0 ? Longer(_interval) : Interval;
        }
        catch (Exception e)
        {
            // Not handed over: the messages go back to the head of the subscription, for the next event or queue_receive.
            subscription.PutBack(listed, dropped);
            _interval = Longer(_interval);
            if (e is OperationCanceledException && token.IsCancellationRequested)
            {
                throw;
            }

            LogSendFailed(_session.Key, subscription.Id, listed.Count, e.Message);
        }
    }

    private static TimeSpan Longer(TimeSpan interval) => interval * 2 < MaxInterval ? interval * 2 : MaxInterval;

    [LoggerMessage(EventId = McpLogEvents.ChannelEventFailed, Level = LogLevel.Debug, Message = "Could not send a channel event to MCP session {Session} for subscription {Subscription}; its {Count} messages were put back ({Reason})")]
    private partial void LogSendFailed(string session, string subscription, int count, string reason);

    [LoggerMessage(EventId = McpLogEvents.ChannelPumpFailed, Level = LogLevel.Error, Message = "Channel events of MCP session {Session} for subscription {Subscription} stopped")]
    private partial void LogPumpFailed(string session, string subscription, Exception exception);
}
