using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace BrummerQueue.Server.Tests.Mcp;

/// <summary>
/// Observes tool calls on the server side (an MCP request filter), so a test can await the moment a
/// server handler has really finished, e.g. after the client cancelled it, instead of sleeping.
/// </summary>
internal sealed class ToolCallProbe
{
    private readonly ConcurrentQueue<TaskCompletionSource<string>> _finished = new();

    public ToolCallProbe()
    {
        for (var i = 0; i < 64; i++)
        {
            _finished.Enqueue(new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously));
        }
    }

    /// <summary>Completes with the tool name when the next tool call has finished in the server (result, error or cancellation).</summary>
    public Task<string> NextFinished => _finished.TryPeek(out var next) ? next.Task : throw new InvalidOperationException("too many calls");

    public void Install(WebApplicationBuilder builder) =>
        builder.Services.AddMcpServer().WithRequestFilters(filters => filters.AddCallToolFilter(next => async (request, cancellationToken) =>
        {
            try
            {
                return await next(request, cancellationToken);
            }
            finally
            {
                if (_finished.TryDequeue(out var done))
                {
                    done.TrySetResult(request.Params?.Name ?? string.Empty);
                }
            }
        }));
}
