using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using BrummerQueue.Core;
using BrummerQueue.Server.Hosting;
using BrummerQueue.Server.WebSockets;

namespace BrummerQueue.Server.Metrics;

/// <summary>
/// The <see cref="System.Diagnostics.Metrics"/> instruments of brummerq, meter <see cref="DefaultMeterName"/>
/// (or <see cref="MetricsSettings.MeterName"/>).
/// Queue figures are observable instruments that read one <see cref="IMessageQueue.GetStats"/> snapshot
/// per collection (cached for a second, so one scrape costs one GetStats, never one per message).
/// The Prometheus exporter at <c>/metrics</c> names them <c>brummerq_*</c>. Thread-safe.
/// Limit hits are one counter, <c>brummerq_limit_hits_total{limit="max_channels"}</c>, the label being the
/// setting that sets the limit in snake case; <c>channel_capacity</c> counts backlog evictions (a full channel
/// drops its oldest message rather than refusing).
/// </summary>
internal sealed partial class BrummerMetrics
{
    public const string DefaultMeterName = "BrummerQueue";

    private static readonly TimeSpan s_snapshotAge = TimeSpan.FromSeconds(1);

    /// <summary>The limits counted from the start (so a scrape shows them at 0): the engine's and the WebSocket endpoint's.</summary>
    private static readonly string[] s_limits =
    [
        nameof(QueueOptions.MaxMessageBytes),
        nameof(QueueOptions.MaxTotalBytes),
        nameof(QueueOptions.MaxChannels),
        nameof(QueueOptions.MaxSubscriptionsPerOwner),
        nameof(ServerOptions.MaxConnections),
        nameof(ServerOptions.MaxFrameBytes),
        nameof(ServerOptions.MaxFramesPerSecond),
        WebSocketConnection.PendingReceivesLimit,
    ];

    private readonly IMessageQueue _queue;
    private readonly TimeProvider _time;
    private readonly Counter<long> _pushesDropped;
    private readonly Lock _lock = new();

    // Hits per limit setting (e.g. MaxChannels). Lock-free: the known limits are added in the constructor (any
    // other on its first hit, by GetOrAdd); each count changes only by Interlocked.Increment, and a collection
    // reads each with Volatile.Read (a hit racing a scrape shows in the next one).
    private readonly ConcurrentDictionary<string, StrongBox<long>> _limitHits = new(StringComparer.Ordinal);

    // Guarded by _lock: the last snapshot (null while the store cannot answer), when it was taken, and whether one was.
    private QueueStats? _snapshot;
    private long _snapshotTimestamp;
    private bool _snapshotTaken;

    public BrummerMetrics(IMeterFactory meterFactory, MetricsSettings settings, IMessageQueue queue, TimeProvider time, WebSocketConnectionTracker connections)
    {
        _queue = queue;
        _time = time;
        var meter = meterFactory.Create(settings.MeterName);
        meter.CreateObservableCounter("brummerq.messages.sent", () => Figure(static stats => stats.MessagesSent), "{message}", "Messages stored since start");
        meter.CreateObservableCounter("brummerq.messages.consumed", () => Figure(static stats => stats.MessagesConsumed), "{message}", "Messages removed by receives since start");
        meter.CreateObservableCounter("brummerq.messages.expired", () => Figure(static stats => stats.MessagesExpired), "{message}", "Messages removed by expiry since start");
        meter.CreateObservableCounter("brummerq.messages.dropped", () => Figure(static stats => stats.MessagesDropped), "{message}", "Messages evicted from full channel backlogs since start");
        meter.CreateObservableCounter("brummerq.messages.delivered", () => Figure(static stats => stats.MessagesDelivered), "{message}", "Copies put into subscription buffers since start (one per subscription a send reached)");
        CreateLeaseInstruments(meter);
        meter.CreateObservableGauge("brummerq.messages.retained", () => Figure(static stats => stats.TotalMessages), "{message}", "Unexpired messages in all backlogs");
        meter.CreateObservableGauge("brummerq.retained", () => Figure(static stats => stats.TotalBytes), "By", "Payload bytes retained in all backlogs");
        meter.CreateObservableGauge("brummerq.channels", () => Figure(static stats => stats.TotalChannels), "{channel}", "Live channels");
        meter.CreateObservableGauge("brummerq.subscriptions", () => Figure(static stats => stats.TotalSubscriptions), "{subscription}", "Open subscriptions (MCP and WebSocket)");
        meter.CreateObservableGauge("brummerq.websocket.connections", () => connections.Count, "{connection}", "Open WebSocket connections");
        _pushesDropped = meter.CreateCounter<long>("brummerq.websocket.pushes.dropped", "{message}", "Messages a WebSocket subscription lost because its buffer was full");
        foreach (var limit in s_limits)
        {
            _limitHits[limit] = new StrongBox<long>();
        }

        meter.CreateObservableCounter("brummerq.limit.hits", LimitHitMeasurements, "{refusal}", "Requests refused by a limit, by the setting that sets it; channel_capacity counts evictions from full backlogs");
        queue.LimitHit += refusal => LimitHit(refusal.Limit!);
    }

    /// <summary>Counts messages a WebSocket subscription's full buffer dropped (each reported once, as a push's <c>dropped</c>).</summary>
    public void PushesDropped(long count) => _pushesDropped.Add(count);

    /// <summary>Counts one refusal by the limit that <paramref name="setting"/> sets (e.g. <c>MaxFrameBytes</c>).</summary>
    public void LimitHit(string setting)
    {
        var count = _limitHits.GetOrAdd(setting, static _ => new StrongBox<long>());
        Interlocked.Increment(ref count.Value);
    }

    private IEnumerable<Measurement<long>> LimitHitMeasurements()
    {
        foreach (var (setting, count) in _limitHits)
        {
            yield return new Measurement<long>(Volatile.Read(ref count.Value), new KeyValuePair<string, object?>("limit", SettingNames.ScreamingSnake(setting).ToLowerInvariant()));
        }

        if (Stats() is { } stats)
        {
            yield return new Measurement<long>(stats.MessagesDropped, new KeyValuePair<string, object?>("limit", "channel_capacity"));
        }
    }

    /// <summary>One queue figure, or no measurement while the store cannot answer (the scrape then lacks it).</summary>
    private IEnumerable<Measurement<long>> Figure(Func<QueueStats, long> figure) =>
        Stats() is { } stats ? [new Measurement<long>(figure(stats))] : [];

    /// <summary>
    /// The snapshot, taken at most once a second; null while the store cannot answer (the Redis store without its
    /// connection: <c>store_unavailable</c>), which is remembered as long as a snapshot, so a scrape asks once.
    /// </summary>
    private QueueStats? Stats()
    {
        lock (_lock)
        {
            if (!_snapshotTaken || _time.GetElapsedTime(_snapshotTimestamp) >= s_snapshotAge)
            {
                try
                {
                    _snapshot = _queue.GetStats();
                }
                catch (QueueException e) when (e.Code == QueueErrorCodes.StoreUnavailable)
                {
                    _snapshot = null;
                }

                _snapshotTimestamp = _time.GetTimestamp();
                _snapshotTaken = true;
            }

            return _snapshot;
        }
    }
}
