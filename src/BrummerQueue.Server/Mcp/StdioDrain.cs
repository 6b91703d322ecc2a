using System.Text.Json;
using BrummerQueue.Server.Protocol;
using ModelContextProtocol.Server;

namespace BrummerQueue.Server.Mcp;

/// <summary>
/// The stdio transport of <c>brummerq mcp</c>, made to drain: when stdin ends (a client that pipes
/// its requests and closes the pipe), end of input reaches the SDK only after every request read so
/// far has been answered on stdout, or was cancelled with <c>notifications/cancelled</c> (a
/// <c>subscriptions/listen</c> stream is not waited for). Without
/// this the SDK would stop the session at end of input and the answers would never be written.
/// A request still unanswered after <see cref="MaxDrain"/> (longer than the longest blocking
/// receive, 300 s) no longer holds the process.
/// </summary>
/// <remarks>
/// Thread-safety: requests are added by the reading loop, answers removed by the writer; both
/// under <see cref="_lock"/>, which also guards <see cref="_idle"/>. The idle task is completed
/// outside the lock.
/// </remarks>
internal sealed partial class StdioDrain
{
    /// <summary>Longest wait for answers after end of input.</summary>
    public static readonly TimeSpan MaxDrain = TimeSpan.FromSeconds(310);

    private readonly Lock _lock = new();
    private readonly HashSet<string> _pending = new(StringComparer.Ordinal);
    private TaskCompletionSource _idle = NewIdle(completed: true);

    private StdioDrain()
    {
    }

    /// <summary>
    /// A transport on this process's stdin and stdout that drains at end of input, answers a line that is not a
    /// JSON-RPC message itself (<see cref="JsonRpcLineGuard"/>) instead of passing it on, and writes results with a
    /// payload at the depth limit (<see cref="PayloadDepthStreamTransport"/>); <paramref name="sentPayloads"/>,
    /// when given, keeps the sender's bytes of each <c>queue_send</c> payload before the guard and the SDK read the line.
    /// </summary>
    public static StreamServerTransport CreateTransport(McpServerOptions options, ILoggerFactory loggerFactory, SentPayloads? sentPayloads = null) =>
        CreateTransport(options, loggerFactory, sentPayloads, out _);

    /// <summary>The same transport, and its drain, which tells when every request read so far is answered (for shutdown).</summary>
    public static StreamServerTransport CreateTransport(McpServerOptions options, ILoggerFactory loggerFactory, SentPayloads? sentPayloads, out StdioDrain drain)
    {
        var created = new StdioDrain();
        var logger = loggerFactory.CreateLogger(typeof(JsonRpcLineGuard).FullName!);

        // The transport starts reading in its constructor, so the gate may see a line before it is assigned.
        var transportSource = new TaskCompletionSource<StreamServerTransport>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stdin = Console.OpenStandardInput();
        if (sentPayloads is not null)
        {
            // Innermost: the guard then checks the line as the SDK will parse it (without the payload).
            stdin = new SentPayloadLineStream(stdin, sentPayloads);
        }

        var input = new LineTapStream(stdin, created.OnRequestLine, created.WhenAnsweredAsync, (line, ct) => AdmitAsync(line, transportSource.Task, logger, ct));
        var output = new LineTapStream(Console.OpenStandardOutput(), created.OnAnswerLine);
        var transport = new PayloadDepthStreamTransport(input, output, options.ServerInfo?.Name, loggerFactory);
        transportSource.SetResult(transport);
        drain = created;
        return transport;
    }

    /// <summary>Completes when every request read so far has been answered, or after <paramref name="limit"/>.</summary>
    public async Task WhenAnsweredAsync(TimeSpan limit)
    {
        Task idle;
        lock (_lock)
        {
            idle = _idle.Task;
        }

        try
        {
            await idle.WaitAsync(limit);
        }
        catch (TimeoutException)
        {
            // Stop anyway; the unanswered requests are cancelled with the session.
        }
    }

    /// <summary>Passes on a JSON-RPC message; answers anything else on stdout with its JSON-RPC error, in order with the other answers.</summary>
    private static async ValueTask<bool> AdmitAsync(ReadOnlyMemory<byte> line, Task<StreamServerTransport> transport, ILogger logger, CancellationToken cancellationToken)
    {
        if (JsonRpcLineGuard.Check(line.Span) is not { } refusal)
        {
            return true;
        }

        LogLineRefused(logger, refusal.Error.Code, refusal.Error.Message);
        await (await transport).SendMessageAsync(refusal, cancellationToken);
        return false;
    }

    private void OnRequestLine(ReadOnlyMemory<byte> line)
    {
        foreach (var message in Messages(line))
        {
            if (!message.TryGetProperty("method", out var method) || method.ValueKind != JsonValueKind.String)
            {
                continue;
            }

            if (message.TryGetProperty("id", out var id) && !method.ValueEquals("subscriptions/listen"))
            {
                // (A subscriptions/listen stream never ends by itself; a client that closed stdin has stopped listening.)
                lock (_lock)
                {
                    if (_pending.Add(id.GetRawText()) && _pending.Count == 1)
                    {
                        _idle = NewIdle(completed: false);
                    }
                }
            }
            else if (method.ValueEquals("notifications/cancelled")
                && message.TryGetProperty("params", out var parameters)
                && parameters.ValueKind == JsonValueKind.Object
                && parameters.TryGetProperty("requestId", out var cancelled))
            {
                // A cancelled request gets no answer.
                Answered(cancelled.GetRawText());
            }
        }
    }

    private void OnAnswerLine(ReadOnlyMemory<byte> line)
    {
        foreach (var message in Messages(line))
        {
            if (!message.TryGetProperty("method", out _) && message.TryGetProperty("id", out var id))
            {
                Answered(id.GetRawText());
            }
        }
    }

    private void Answered(string id)
    {
        TaskCompletionSource? idle = null;
        lock (_lock)
        {
            if (_pending.Remove(id) && _pending.Count == 0)
            {
                idle = _idle;
            }
        }

        idle?.TrySetResult();
    }

    private async Task WhenAnsweredAsync(CancellationToken cancellationToken)
    {
        Task idle;
        lock (_lock)
        {
            idle = _idle.Task;
        }

        try
        {
            await idle.WaitAsync(MaxDrain, cancellationToken);
        }
        catch (TimeoutException)
        {
            // Give up on answers that do not come; end of input goes on.
        }
    }

    private static List<JsonElement> Messages(ReadOnlyMemory<byte> line)
    {
        try
        {
            // As deep as the transport writes: an answer holding a payload at the depth limit must count as answered.
            using var document = JsonDocument.Parse(line, PayloadEnvelope.AnyReplyOptions);
            var root = document.RootElement;
            return root.ValueKind switch
            {
                JsonValueKind.Object => [root.Clone()],
                JsonValueKind.Array => [.. root.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Object).Select(e => e.Clone())],
                _ => [],
            };
        }
        catch (JsonException)
        {
            // Not JSON: the SDK answers or ignores it; nothing to wait for.
            return [];
        }
    }

    private static TaskCompletionSource NewIdle(bool completed)
    {
        var idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (completed)
        {
            idle.SetResult();
        }

        return idle;
    }

    [LoggerMessage(EventId = McpLogEvents.LineRefused, Level = LogLevel.Debug, Message = "stdin line refused ({Code}): {Reason}")]
    private static partial void LogLineRefused(ILogger logger, int code, string reason);
}
