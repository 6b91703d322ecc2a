namespace BrummerQueue.Core.Tests.Model;

internal sealed record ModelMessage(long Seq, long ExpiresAt, int Bytes)
{
    /// <summary>The channel it was sent to (a pattern subscription's messages come from several).</summary>
    public string Channel { get; init; } = "";
}
