using System.Diagnostics.Metrics;
using BrummerQueue.Core;
using BrummerQueue.Server.WebSockets;

namespace BrummerQueue.Server.Metrics;

/// <summary>
/// The <see cref="System.Diagnostics.Metrics"/> instruments of brummerq, meter <see cref="DefaultMeterName"/>
/// (or <see cref="MetricsSettings.MeterName"/>).
/// Queue figures are observable instruments that read one <see cref="IMessageQueue.GetStats"/> snapshot
/// per collection (cached for a second, so one scrape costs one GetStats, never one per message).
/// The Prometheus exporter at <c>/metrics</c> names them <c>brummerq_*</c>. Thread-safe.
/// </summary>
internal sealed class BrummerMetrics
{
    public const string DefaultMeterName = "BrummerQueue";

    private static readonly TimeSpan s_snapshotAge = TimeSpan.FromSeconds(1);

    private readonly IMessageQueue _queue;
    private readonly TimeProvider _time;
    private readonly Counter<long> _pushesDropped;
    private readonly Lock _lock = new();

    // Guarded by _lock: the last snapshot and when it was taken.
    private QueueStats? _snapshot;
    private long _snapshotTimestamp;

    public BrummerMetrics(IMeterFactory meterFactory, MetricsSettings settings, IMessageQueue queue, TimeProvider time, WebSocketConnectionTracker connections)
    {
        _queue = queue;
        _time = time;
        var meter = meterFactory.Create(settings.MeterName);
        meter.CreateObservableCounter("brummerq.messages.sent", () => Stats().MessagesSent, "{message}", "Messages stored since start");
        meter.CreateObservableCounter("brummerq.messages.consumed", () => Stats().MessagesConsumed, "{message}", "Messages removed by receives since start");
        meter.CreateObservableCounter("brummerq.messages.expired", () => Stats().MessagesExpired, "{message}", "Messages removed by expiry since start");
        meter.CreateObservableCounter("brummerq.messages.dropped", () => Stats().MessagesDropped, "{message}", "Messages evicted from full channel backlogs since start");
        meter.CreateObservableGauge("brummerq.messages.retained", () => Stats().TotalMessages, "{message}", "Unexpired messages in all backlogs");
        meter.CreateObservableGauge("brummerq.retained", () => Stats().TotalBytes, "By", "Payload bytes retained in all backlogs");
        meter.CreateObservableGauge("brummerq.channels", () => Stats().TotalChannels, "{channel}", "Live channels");
        meter.CreateObservableGauge("brummerq.subscriptions", () => Stats().TotalSubscriptions, "{subscription}", "Open subscriptions (MCP and WebSocket)");
        meter.CreateObservableGauge("brummerq.websocket.connections", () => connections.Count, "{connection}", "Open WebSocket connections");
        _pushesDropped = meter.CreateCounter<long>("brummerq.websocket.pushes.dropped", "{message}", "Pushes a slow WebSocket lost because its send queue was full");
    }

    /// <summary>Counts pushes a socket's outbound queue dropped.</summary>
    public void PushesDropped(long count) => _pushesDropped.Add(count);

    private QueueStats Stats()
    {
        lock (_lock)
        {
            if (_snapshot is null || _time.GetElapsedTime(_snapshotTimestamp) >= s_snapshotAge)
            {
                _snapshot = _queue.GetStats();
                _snapshotTimestamp = _time.GetTimestamp();
            }

            return _snapshot;
        }
    }
}
