using BrummerQueue.Core;
using BrummerQueue.Server.Hosting;
using BrummerQueue.Server.WebSockets;
using Microsoft.Extensions.DependencyInjection;

namespace BrummerQueue.Server.Tests.WebSockets;

/// <summary>
/// The start-up warm-up of <c>brummerq serve</c> runs the whole WebSocket push path (unbatched and batched) and leaves
/// nothing a client could see.
/// </summary>
public sealed class PushPathWarmUpTests
{
    [Fact]
    public async Task StartAsync_OnAHost_EveryMessagePushedToEverySubscriberAndNothingLeftInTheQueue()
    {
        await using var host = await TestServerHost.StartInProcessAsync(configure: b => b.Services.AddHostedService<PushPathWarmUp>());
        var warmUp = host.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<PushPathWarmUp>().Single();

        Assert.InRange(warmUp.Rounds, 1, PushPathWarmUp.MaxRounds);
        Assert.Equal(2L * PushPathWarmUp.MessagesPerPublisher * warmUp.Rounds, warmUp.Published);
        Assert.Equal(warmUp.Published * PushPathWarmUp.Subscribers, warmUp.Pushed);
        var stats = host.Queue.GetStats();
        Assert.Equal(0, stats.TotalChannels);
        Assert.Equal(0, stats.TotalSubscriptions);
        Assert.Equal(0, stats.MessagesSent);
        Assert.Equal(0, host.Services.GetRequiredService<WebSocketConnectionTracker>().Count);
    }
}
