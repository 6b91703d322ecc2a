using BrummerQueue.Core;

namespace BrummerQueue.Server.Hosting;

/// <summary>
/// Creates the queue when the host starts rather than at its first use, so that a store that cannot start (a Redis that
/// cannot be reached) fails the start with one clear line (<see cref="Cli.HostRunner"/>) instead of the first request.
/// </summary>
internal sealed class StoreStartup(IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        services.GetRequiredService<IMessageQueue>();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
