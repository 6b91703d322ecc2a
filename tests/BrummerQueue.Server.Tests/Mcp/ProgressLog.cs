using System.Text.Json;
using System.Threading.Channels;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace BrummerQueue.Server.Tests.Mcp;

/// <summary>
/// Every <c>notifications/progress</c> a client gets, in arrival order, whatever its token (so that one arriving after
/// the call ended is seen too), and a client that aborts a tool call after a stretch of silence, as Claude Code does.
/// </summary>
internal sealed class ProgressLog
{
    private readonly Channel<ProgressNotificationParams> _arrived = Channel.CreateUnbounded<ProgressNotificationParams>();
    private readonly List<ProgressNotificationParams> _all = [];

    /// <summary>The client options that route every progress notification here.</summary>
    public McpClientOptions ClientOptions => new()
    {
        Handlers = new McpClientHandlers
        {
            NotificationHandlers =
            [
                new(NotificationMethods.ProgressNotification, (notification, _) =>
                {
                    var progress = JsonSerializer.Deserialize<ProgressNotificationParams>(notification.Params, McpJsonUtilities.DefaultOptions)!;
                    lock (_all)
                    {
                        _all.Add(progress);
                    }

                    _arrived.Writer.TryWrite(progress);
                    return ValueTask.CompletedTask;
                }),
            ],
        },
    };

    /// <summary>How many have arrived so far.</summary>
    public int Count
    {
        get
        {
            lock (_all)
            {
                return _all.Count;
            }
        }
    }

    /// <summary>All that arrived so far.</summary>
    public IReadOnlyList<ProgressNotificationParams> All
    {
        get
        {
            lock (_all)
            {
                return [.. _all];
            }
        }
    }

    /// <summary>A <c>tools/call</c> of <paramref name="tool"/> carrying <paramref name="progressToken"/> (none when null).</summary>
    public static CallToolRequestParams Call(string tool, string argumentsJson, string? progressToken) => new()
    {
        Name = tool,
        Arguments = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(argumentsJson)!,
        Meta = progressToken is null ? null : new() { ["progressToken"] = progressToken },
    };

    /// <summary>The next notification not yet taken, or null if none arrives within <paramref name="wait"/> (real time).</summary>
    public async Task<ProgressNotificationParams?> NextAsync(TimeSpan wait)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(wait);
        try
        {
            return await _arrived.Reader.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>Of the notifications arrived and not yet taken, the one that reports the longest wait, if any.</summary>
    public ProgressNotificationParams? TakeArrived()
    {
        ProgressNotificationParams? furthest = null;
        while (_arrived.Reader.TryRead(out var progress))
        {
            if (furthest is null || progress.Progress.Progress > furthest.Progress.Progress)
            {
                furthest = progress;
            }
        }

        return furthest;
    }

    /// <summary>
    /// Calls a tool as a client that gives up after <paramref name="silence"/> without a sign of life (the call's start,
    /// then each progress notification): it cancels the request, and the test fails saying so.
    /// </summary>
    public async Task<CallToolResult> CallAbortingAfterSilenceAsync(McpClient client, CallToolRequestParams call, TimeSpan silence)
    {
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        abort.CancelAfter(silence);
        var pending = client.CallToolAsync(call, abort.Token).AsTask();
        while (true)
        {
            var next = _arrived.Reader.WaitToReadAsync(TestContext.Current.CancellationToken).AsTask();
            if (await Task.WhenAny(pending, next) == pending)
            {
                try
                {
                    return await pending;
                }
                catch (OperationCanceledException) when (abort.IsCancellationRequested && !TestContext.Current.CancellationToken.IsCancellationRequested)
                {
                    Assert.Fail($"the client aborted {call.Name}: {silence.TotalSeconds} s passed without a progress notification (got {Count})");
                    throw;
                }
            }

            if (TakeArrived() is not null)
            {
                abort.CancelAfter(silence);
            }
        }
    }
}
