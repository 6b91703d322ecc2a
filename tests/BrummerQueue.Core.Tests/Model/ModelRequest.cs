namespace BrummerQueue.Core.Tests.Model;

/// <summary>The model of one request (docs/protocol.md "Request/reply"): open until its deadline or its end; one reply at most.</summary>
public sealed class ModelRequest(long deadlineMs)
{
    public long DeadlineMs { get; } = deadlineMs;

    /// <summary>The accepted reply's payload, or null.</summary>
    public string? Reply { get; set; }

    /// <summary>Ended by its holder (waited or disposed).</summary>
    public bool Ended { get; set; }

    public bool IsOpenAt(long nowMs) => !Ended && nowMs < DeadlineMs;
}
