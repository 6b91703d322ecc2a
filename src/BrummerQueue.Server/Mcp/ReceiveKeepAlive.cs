using System.Globalization;
using System.Text.Json;
using BrummerQueue.Core;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace BrummerQueue.Server.Mcp;

/// <summary>
/// Keeps a blocking <c>queue_receive</c> alive for clients that abort idle tool calls (SPEC.md §2 "Long waits"):
/// while the call waits, a request that carries a <c>progressToken</c> gets a <c>notifications/progress</c> every
/// <see cref="Interval"/> (progress = seconds waited, total = the call's <c>timeout</c>). No token, or not a blocking
/// receive, means no notification. <see cref="DisposeAsync"/> stops the notifications and returns only once none is
/// being sent, so the call's result, sent after it, is never followed by one. Used by the local tool handler and by
/// attach mode's forwarding (which keeps its own client alive while the hosting server waits).
/// Not thread-safe: started and disposed by the one call it belongs to.
/// </summary>
internal sealed partial class ReceiveKeepAlive : IAsyncDisposable
{
    /// <summary>The interval in production: under the 15 s of SPEC.md §2, with room for a busy machine.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Test hook, not a setting: <c>BRUMMERQ_TEST_PROGRESS_INTERVAL_MS</c> (1–15000) shortens the interval of a
    /// real process so process tests need not wait 10 s per notification. In-process tests use a fake clock instead.
    /// </summary>
    public const string IntervalVariable = "BRUMMERQ_TEST_PROGRESS_INTERVAL_MS";

    private readonly McpServer _server;
    private readonly ProgressToken _progressToken;
    private readonly string _target;
    private readonly double _timeoutSeconds;
    private readonly TimeProvider _time;
    private readonly long _started;
    private readonly CancellationToken _callToken;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private ReceiveKeepAlive(McpServer server, ProgressToken progressToken, string target, double timeoutSeconds, TimeProvider time, ILogger logger, CancellationToken callToken)
    {
        _server = server;
        _progressToken = progressToken;
        _target = target;
        _timeoutSeconds = timeoutSeconds;
        _time = time;
        _callToken = callToken;
        _logger = logger;
        _started = time.GetTimestamp();
        _loop = RunAsync();
    }

    /// <summary>The time between two notifications: <see cref="DefaultInterval"/> unless the test hook sets it.</summary>
    public static TimeSpan Interval { get; } = IntervalFrom(Environment.GetEnvironmentVariable(IntervalVariable));

    /// <summary>
    /// Starts the notifications for <paramref name="request"/> when it is a blocking <c>queue_receive</c> with a
    /// progress token; otherwise returns null (nothing to stop). Arguments are read leniently: a call with bad
    /// arguments is refused at once, before the first notification would be due.
    /// </summary>
    public static ReceiveKeepAlive? Start(RequestContext<CallToolRequestParams> request, TimeProvider time, ILogger logger, CancellationToken callToken)
    {
        // queue_request always waits (for its reply).
        var isRequest = request.Params is { Name: QueueToolDefinitions.Request };
        if (request.Params is not { Name: QueueToolDefinitions.Receive or QueueToolDefinitions.Request, ProgressToken: { } progressToken } call
            || call.Arguments is not { } arguments
            || (!isRequest && (!arguments.TryGetValue("blocking", out var blocking) || blocking.ValueKind != JsonValueKind.True)))
        {
            return null;
        }

        var target = arguments.TryGetValue("channel", out var channel) && channel.ValueKind == JsonValueKind.String
            ? (isRequest ? $"the reply channel of a request to channel {channel.GetString()}" : $"channel {channel.GetString()}")
            : arguments.TryGetValue("subscription_id", out var subscription) && subscription.ValueKind == JsonValueKind.String
                ? $"subscription {subscription.GetString()}"
                : "a channel";
        var timeout = arguments.TryGetValue("timeout", out var given) && given.ValueKind == JsonValueKind.Number && given.TryGetDouble(out var seconds)
            ? Math.Clamp(seconds, 0, ReceiveRequest.MaxTimeoutSeconds)
            : ReceiveRequest.DefaultTimeoutSeconds;
        return new ReceiveKeepAlive(request.Server, progressToken, target, timeout, time, logger, callToken);
    }

    /// <summary>Stops the notifications; when it returns, none is in flight and none will follow.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }

    internal static TimeSpan IntervalFrom(string? milliseconds) =>
        int.TryParse(milliseconds, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms is >= 1 and <= 15_000
            ? TimeSpan.FromMilliseconds(ms)
            : DefaultInterval;

    private async Task RunAsync()
    {
        // The first await returns to Start at once: the loop runs beside the call.
        using var timer = new PeriodicTimer(Interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                var waited = _time.GetElapsedTime(_started).TotalSeconds;
                await _server.NotifyProgressAsync(
                    _progressToken,
                    new ProgressNotificationValue
                    {
                        Progress = (float)Math.Round(waited, 3),
                        Total = (float)_timeoutSeconds,
                        Message = string.Create(CultureInfo.InvariantCulture, $"waiting for a message on {_target} ({waited:0} s of {_timeoutSeconds:0.###} s)"),
                    },
                    cancellationToken: _callToken);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested || _callToken.IsCancellationRequested)
        {
            // The call ended (or was cancelled): no more notifications.
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The client is gone or its transport failed: the call itself sees that; the keep-alive just stops.
            LogProgressFailed(e.Message);
        }
    }

    [LoggerMessage(EventId = McpLogEvents.ProgressFailed, Level = LogLevel.Debug, Message = "Stopped the progress keep-alive of a blocking queue_receive: {Reason}")]
    private partial void LogProgressFailed(string reason);
}
