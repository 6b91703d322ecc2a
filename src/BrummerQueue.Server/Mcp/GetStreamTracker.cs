using System.Runtime.CompilerServices;

namespace BrummerQueue.Server.Mcp;

/// <summary>
/// Tells each session when its Streamable HTTP GET stream is open (<see cref="McpSessionState.StreamOpened"/>), because the
/// SDK (2.4.0) drops a notification silently when the session has none, and channel events take messages from a
/// subscription. A stream counts as open from the moment its response starts (the SDK sets up its writer before that,
/// under the lock its sends take) until the request ends or the client aborts it.
/// </summary>
internal static class GetStreamTracker
{
    private const int NotStarted = 0;
    private const int Open = 1;
    private const int Ended = 2;

    /// <summary>Wraps the SDK's <c>/mcp</c> request delegate.</summary>
    public static RequestDelegate Wrap(RequestDelegate next) => async context =>
    {
        if (!HttpMethods.IsGet(context.Request.Method)
            || context.Request.Headers["Mcp-Session-Id"] is not [{ } id]
            || context.RequestServices.GetService<McpSessionRegistry>()?.Find(id) is not { } session)
        {
            await next(context);
            return;
        }

        // NotStarted → Open (response started as an event stream) → Ended; only the Open → Ended step reports the close.
        var state = new StrongBox<int>(NotStarted);
        context.Response.OnStarting(() =>
        {
            if (context.Response.ContentType?.StartsWith("text/event-stream", StringComparison.Ordinal) == true
                && Interlocked.CompareExchange(ref state.Value, Open, NotStarted) == NotStarted)
            {
                session.StreamOpened();
            }

            return Task.CompletedTask;
        });
        using var aborted = context.RequestAborted.Register(() => End(state, session));
        try
        {
            await next(context);
        }
        finally
        {
            End(state, session);
        }
    };

    private static void End(StrongBox<int> state, McpSessionState session)
    {
        if (Interlocked.Exchange(ref state.Value, Ended) == Open)
        {
            session.StreamClosed();
        }
    }
}
