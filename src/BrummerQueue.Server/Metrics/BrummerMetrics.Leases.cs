using System.Diagnostics.Metrics;

namespace BrummerQueue.Server.Metrics;

/// <summary>The acknowledged-receive figures (docs/protocol.md "Acknowledged receive") as metrics, from the same stats snapshot as the others.</summary>
internal sealed partial class BrummerMetrics
{
    private void CreateLeaseInstruments(Meter meter)
    {
        meter.CreateObservableCounter("brummerq.messages.leased", () => Figure(static stats => stats.Leases.Leased), "{message}", "Deliveries by receives with ack_timeout since start");
        meter.CreateObservableCounter("brummerq.messages.acked", () => Figure(static stats => stats.Leases.Acked), "{message}", "Leased messages acknowledged since start");
        meter.CreateObservableCounter("brummerq.messages.redelivered", () => Figure(static stats => stats.Leases.Redelivered), "{message}", "Leased messages returned to their backlog when the lease ended unacknowledged");
        meter.CreateObservableCounter("brummerq.messages.dead_lettered", () => Figure(static stats => stats.Leases.DeadLettered), "{message}", "Messages moved to <channel>.dead after max_deliveries deliveries");
        meter.CreateObservableGauge("brummerq.messages.in_flight", () => Figure(static stats => stats.Leases.InFlight), "{message}", "Messages out on lease now");
    }
}
