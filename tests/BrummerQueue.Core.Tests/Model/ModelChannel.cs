namespace BrummerQueue.Core.Tests.Model;

internal sealed class ModelChannel
{
    public List<ModelMessage> Backlog { get; } = [];

    public long LastSeq { get; set; }

    public long Sent { get; set; }

    public long Consumed { get; set; }

    public long Expired { get; set; }

    public long Dropped { get; set; }

    public long Delivered { get; set; }

    /// <summary>Acknowledged-receive counters of this incarnation (InFlight is the model's active leases, counted apart).</summary>
    public LeaseFigures Leases { get; set; } = LeaseFigures.None;
}
