namespace BrummerQueue.Core.Tests.Model;

/// <summary>
/// A message out on lease in the model: from <paramref name="state"/> (that incarnation of <paramref name="channel"/>) until
/// <paramref name="deadline"/> (ms), to <paramref name="owner"/>. Compared by reference: each lease is one delivery.
/// </summary>
internal sealed class ModelLease(string channel, ModelChannel state, ModelMessage message, long deadline, string owner)
{
    public string Channel { get; } = channel;

    public ModelChannel State { get; } = state;

    public ModelMessage Message { get; } = message;

    public long Deadline { get; } = deadline;

    public string Owner { get; } = owner;
}
