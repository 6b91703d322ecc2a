using System.Text.Json;
using ModelContextProtocol.Server;

namespace BrummerQueue.Server.Mcp;

/// <summary>
/// The stdio transport of <c>brummerq mcp</c>, made to drain: when stdin ends (a client that pipes
/// its requests and closes the pipe), end of input reaches the SDK only after every request read so
/// far has been answered on stdout, or was cancelled with <c>notifications/cancelled</c>. Without
/// this the SDK would stop the session at end of input and the answers would never be written.
/// A request still unanswered after <see cref="MaxDrain"/> (longer than the longest blocking
/// receive, 300 s) no longer holds the process.
/// </summary>
/// <remarks>
/// Thread-safety: requests are added by the reading loop, answers removed by the writer; both
/// under <see cref="_lock"/>, which also guards <see cref="_idle"/>. The idle task is completed
/// outside the lock.
/// </remarks>
internal sealed class StdioDrain
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
    /// A transport on this process's stdin and stdout that drains at end of input and writes results with a
    /// payload at the depth limit (<see cref="PayloadDepthStreamTransport"/>); <paramref name="sentPayloads"/>,
    /// when given, keeps the sender's bytes of each <c>queue_send</c> payload before the SDK reads the line.
    /// </summary>
    public static StreamServerTransport CreateTransport(McpServerOptions options, ILoggerFactory loggerFactory, SentPayloads? sentPayloads = null) =>
        CreateTransport(options, loggerFactory, sentPayloads, out _);

    /// <summary>The same transport, and its drain, which tells when every request read so far is answered (for shutdown).</summary>
    public static StreamServerTransport CreateTransport(McpServerOptions options, ILoggerFactory loggerFactory, SentPayloads? sentPayloads, out StdioDrain drain)
    {
        var created = new StdioDrain();
        Stream input = new LineTapStream(Console.OpenStandardInput(), created.OnRequestLine, created.WhenAnsweredAsync);
        if (sentPayloads is not null)
        {
            input = new SentPayloadLineStream(input, sentPayloads);
        }

        var output = new LineTapStream(Console.OpenStandardOutput(), created.OnAnswerLine);
        drain = created;
        return new PayloadDepthStreamTransport(input, output, options.ServerInfo?.Name, loggerFactory);
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

    private void OnRequestLine(ReadOnlyMemory<byte> line)
    {
        foreach (var message in Messages(line))
        {
            if (!message.TryGetProperty("method", out var method) || method.ValueKind != JsonValueKind.String)
            {
                continue;
            }

            if (message.TryGetProperty("id", out var id))
            {
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
            using var document = JsonDocument.Parse(line, new JsonDocumentOptions { MaxDepth = PayloadDepthStreamTransport.MaxDepth });
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
}
