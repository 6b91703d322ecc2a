using BrummerQueue.Core;
using BrummerQueue.Redis;

namespace BrummerQueue.Server.Hosting;

/// <summary>
/// Checks the store as the host starts: a Redis store that could not connect fails the start with
/// <see cref="StoreUnreachableException"/>, which <see cref="Cli.HostRunner"/> turns into one line on stderr and exit 1
/// (once started, the node rides out a lost connection and reconnects by itself).
/// </summary>
internal sealed class StoreStartup(IMessageQueue queue) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) =>
        RedisStore.ConnectionFailure(queue) is { } failure ? throw new StoreUnreachableException(failure) : Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
