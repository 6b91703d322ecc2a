using BrummerQueue.Core;

namespace BrummerQueue.Server.Hosting;

/// <summary>
/// The one shutdown rule for waiting receives, used by every face (MCP, WebSocket, HTTP long poll):
/// when the host starts stopping (<see cref="IHostApplicationLifetime.ApplicationStopping"/>: SIGTERM,
/// Ctrl-C), a receive that is still waiting ends at once with an empty result. It takes nothing: the
/// engine takes no message for a cancelled receive, so what arrives later stays in the channel.
/// Thread-safe.
/// </summary>
internal sealed class HostStopping
{
    private readonly IHostApplicationLifetime _lifetime;

    public HostStopping(IHostApplicationLifetime lifetime) => _lifetime = lifetime;

    /// <summary>Cancelled when the host starts stopping.</summary>
    public CancellationToken Token => _lifetime.ApplicationStopping;

    /// <summary>
    /// <see cref="IMessageQueue.ReceiveAsync"/> that also ends, empty, when the host stops. Cancellation of
    /// <paramref name="cancellationToken"/> (the client gave up) still throws, as before.
    /// </summary>
    public async Task<ReceiveResult> ReceiveAsync(IMessageQueue queue, ReceiveRequest request, CancellationToken cancellationToken)
    {
        var stopping = _lifetime.ApplicationStopping;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping);
        try
        {
            return await queue.ReceiveAsync(request, linked.Token);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return new ReceiveResult([], null);
        }
    }
}
