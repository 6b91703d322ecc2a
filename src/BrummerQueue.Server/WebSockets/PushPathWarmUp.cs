using System.Diagnostics;
using System.Net.WebSockets;
using System.Runtime;
using System.Text;
using BrummerQueue.Core;
using BrummerQueue.Server.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace BrummerQueue.Server.WebSockets;

/// <summary>
/// Runs the WebSocket send → fan-out → push path a few thousand times before <c>brummerq serve</c> listens, so a fresh
/// server's first seconds under load are not spent in the JIT's first tier (issue 14 point 4; docs/benchmarks.md,
/// "Warm start"). Everything it uses is its own and goes away with it: an in-memory queue of its own, real
/// <see cref="WebSocketConnection"/>s over in-process pipes (<see cref="PipeDuplexStream"/>), unbatched and batched, no
/// metrics, no logs but its own line at Debug. Nothing a client can see is left behind: no channel, no subscription,
/// no count. Rounds of <see cref="MessagesPerPublisher"/> per publisher, until a round compiles almost nothing new,
/// at most <see cref="MaxRounds"/> and none started after <see cref="TimeBudget"/>; a failure only logs.
/// </summary>
internal sealed class PushPathWarmUp(IOptions<ServerOptions> options, IOptions<QueueOptions> queueOptions, ServerIdentity identity, HostStopping stopping, ILoggerFactory loggers) : IHostedService
{
    /// <summary>Messages each of the two publishers sends in one round (one socket unbatched, one batched).</summary>
    public const int MessagesPerPublisher = 1000;

    /// <summary>Rounds at most; fewer when a round and its pause compiled fewer than <see cref="SettledCompiles"/> methods.</summary>
    public const int MaxRounds = 12;

    /// <summary>Methods compiled in a round (with its pause) below which the hot paths count as compiled for good.</summary>
    public const int SettledCompiles = 10;

    /// <summary>Subscribers, each on its own socket: the first unbatched, the others batched.</summary>
    public const int Subscribers = 3;

    /// <summary>Set to <c>1</c>, this environment variable skips the warm-up (to measure a server without it).</summary>
    public const string DisableVariable = "BRUMMERQ_NO_WARMUP";

    private const int Window = 16;
    private const string Channel = "brummerq.warm-up";

    /// <summary>No round starts after this long, however far the warm-up got (a loaded machine).</summary>
    public static readonly TimeSpan TimeBudget = TimeSpan.FromSeconds(4);

    // Pause after each round: longer than the runtime's 100 ms call-counting delay (TC_CallCountingDelayMs).
    private static readonly TimeSpan s_roundPause = TimeSpan.FromMilliseconds(250);

    private static readonly byte[] s_ack = Encoding.UTF8.GetBytes("\"type\":\"ack\"");
    private static readonly byte[] s_push = Encoding.UTF8.GetBytes("\"type\":\"queue_message\"");
    private static readonly byte[] s_end = Encoding.UTF8.GetBytes("{\"end\":true}");
    private static readonly byte[] s_subscribed = Encoding.UTF8.GetBytes("\"type\":\"subscribed\"");

    private readonly ILogger _logger = loggers.CreateLogger("BrummerQueue.Server.WebSockets");

    /// <summary>Messages published (acknowledged) in all rounds so far.</summary>
    public long Published { get; private set; }

    /// <summary>Pushes the subscribers received in all rounds so far.</summary>
    public long Pushed { get; private set; }

    /// <summary>Rounds run by <see cref="StartAsync"/>.</summary>
    public int Rounds { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            while (true)
            {
                var compiledBefore = JitInfo.GetCompiledMethodCount();
                await RunRoundAsync(cancellationToken);
                Rounds++;

                // The runtime starts counting calls for its optimizing tier only after 100 ms without a new
                // first-tier compile, then recompiles hot methods on a background thread: pause so that happens now.
                await Task.Delay(s_roundPause, cancellationToken);
                var compiled = JitInfo.GetCompiledMethodCount() - compiledBefore;
                if (compiled < SettledCompiles || Rounds >= MaxRounds || Stopwatch.GetElapsedTime(started) >= TimeBudget)
                {
                    break;
                }
            }

            // What the rounds left (their queue, the pushes' frames) would stay in the heap until load comes: collect
            // it now and give the memory back, so an idle server holds what a server without the warm-up holds.
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            WebSocketLog.WarmedUp(_logger, Rounds, Published, Pushed, JitInfo.GetCompiledMethodCount(), (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException or InvalidOperationException)
        {
            WebSocketLog.WarmUpFailed(_logger, e.Message);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>One round: opens the sockets, subscribes, publishes, closes; returns when every connection it opened has ended.</summary>
    public async Task RunRoundAsync(CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeBudget + TimeSpan.FromSeconds(5));
        using var engine = MessageQueue.CreateInMemory(queueOptions.Value, TimeProvider.System);
        var serverOptions = options.Value with { MaxFramesPerSecond = int.MaxValue, IdleTimeoutSeconds = 0, KeepAliveSeconds = 0 };
        var servers = new List<Task>();
        var clients = new List<WebSocket>();
        WebSocket Open(bool batched)
        {
            var (serverEnd, clientEnd) = PipeDuplexStream.CreatePair();
            var serverSocket = WebSocket.CreateFromStream(serverEnd, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
            var connection = new WebSocketConnection(serverSocket, engine, serverOptions, identity, TimeProvider.System, stopping, NullLogger.Instance, null, deadline.Token)
            {
                Batched = batched,
            };
            servers.Add(ServeAsync(connection, serverSocket, serverEnd));
            var client = WebSocket.CreateFromStream(clientEnd, new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });
            clients.Add(client);
            return client;
        }

        try
        {
            var subscribers = Enumerable.Range(0, Subscribers).Select(i => Open(batched: i > 0)).ToArray();
            var publishers = new[] { Open(batched: false), Open(batched: true) };
            foreach (var subscriber in subscribers)
            {
                await SubscribeAsync(subscriber, deadline.Token);
            }

            var receiving = subscribers.Select(s => CountPushesAsync(s, publishers.Length, deadline.Token)).ToArray();
            var published = await Task.WhenAll(publishers.Select(p => PublishAsync(p, deadline.Token)));
            Published += published.Sum();
            Pushed += (await Task.WhenAll(receiving)).Sum();
            foreach (var client in clients)
            {
                await client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "warm-up done", deadline.Token);
            }

            foreach (var client in clients)
            {
                await DrainToCloseAsync(client, deadline.Token);
            }
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Abort();
                client.Dispose();
            }

            await Task.WhenAll(servers);
        }
    }

    private static async Task ServeAsync(WebSocketConnection connection, WebSocket socket, PipeDuplexStream stream)
    {
        using (connection)
        using (socket)
        await using (stream)
        {
            await connection.RunAsync();
        }
    }

    private static async Task SubscribeAsync(WebSocket client, CancellationToken cancellationToken)
    {
        var frame = Encoding.UTF8.GetBytes($$$"""{"type":"queue_subscribe","id":"s","data":{"channel":"{{{Channel}}}","buffer_size":10000}}""");
        await client.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        var buffer = new byte[4096];
        while (true)
        {
            var count = await ReadFrameAsync(client, buffer, cancellationToken);
            if (count < 0)
            {
                throw new InvalidOperationException("warm-up subscriber closed before it was subscribed");
            }

            if (buffer.AsSpan(0, count).IndexOf(s_subscribed) >= 0)
            {
                return;
            }
        }
    }

    /// <summary>Sends up to <see cref="MessagesPerPublisher"/> messages with at most <see cref="Window"/> awaiting their ack; returns how many were acknowledged.</summary>
    private static async Task<long> PublishAsync(WebSocket client, CancellationToken cancellationToken)
    {
        var payload = new string('x', 60);
        var buffer = new byte[128 * 1024];
        long sent = 0, acked = 0;
        while (true)
        {
            while (sent - acked < Window && sent < MessagesPerPublisher)
            {
                sent++;
                var frame = Encoding.UTF8.GetBytes($$$"""{"type":"queue_message","id":"{{{sent}}}","data":{"channel":"{{{Channel}}}","payload":{"seq":{{{sent}}},"x":"{{{payload}}}"},"ttl":60}}""");
                await client.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
            }

            if (acked == sent)
            {
                // The last message tells the subscribers this publisher is done (a socket's pushes keep their order).
                var end = Encoding.UTF8.GetBytes($$$"""{"type":"queue_message","id":"end","data":{"channel":"{{{Channel}}}","payload":{"end":true},"ttl":60}}""");
                await client.SendAsync(end, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
                return acked;
            }

            var count = await ReadFrameAsync(client, buffer, cancellationToken);
            if (count < 0)
            {
                return acked;
            }

            acked += Occurrences(buffer.AsSpan(0, count), s_ack);
        }
    }

    /// <summary>Counts the pushes a subscriber receives until every publisher's last message came; returns the count without those.</summary>
    private static async Task<long> CountPushesAsync(WebSocket client, int publishers, CancellationToken cancellationToken)
    {
        var buffer = new byte[128 * 1024];
        long pushes = 0, ends = 0;
        while (ends < publishers && await ReadFrameAsync(client, buffer, cancellationToken) is var count and >= 0)
        {
            pushes += Occurrences(buffer.AsSpan(0, count), s_push);
            ends += Occurrences(buffer.AsSpan(0, count), s_end);
        }

        return pushes - ends;
    }

    /// <summary>Reads and drops what is left until the server's close frame.</summary>
    private static async Task DrainToCloseAsync(WebSocket client, CancellationToken cancellationToken)
    {
        var buffer = new byte[128 * 1024];
        while (await ReadFrameAsync(client, buffer, cancellationToken) >= 0)
        {
            // Acks or pushes still on their way.
        }
    }

    /// <summary>Reads one whole frame into <paramref name="buffer"/> (the part past its end is skipped); -1 at the close.</summary>
    private static async Task<int> ReadFrameAsync(WebSocket client, byte[] buffer, CancellationToken cancellationToken)
    {
        var count = 0;
        while (true)
        {
            var result = await client.ReceiveAsync(buffer.AsMemory(Math.Min(count, buffer.Length - 1)), cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return -1;
            }

            count = Math.Min(count + result.Count, buffer.Length);
            if (result.EndOfMessage)
            {
                return count;
            }
        }
    }

    private static int Occurrences(ReadOnlySpan<byte> text, ReadOnlySpan<byte> what)
    {
        var found = 0;
        int at;
        while ((at = text.IndexOf(what)) >= 0)
        {
            found++;
            text = text[(at + what.Length)..];
        }

        return found;
    }
}
