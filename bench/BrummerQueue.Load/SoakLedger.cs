using System.Collections.Concurrent;

namespace BrummerQueue.Load;

/// <summary>
/// What a soak run sent and consumed, by each message's unique id (carried in its payload as <c>uid</c>).
/// Thread-safe: every member is a concurrent collection or changed with <see cref="Interlocked"/>.
/// </summary>
internal sealed class SoakLedger
{
    /// <summary>Sent, acknowledged (stored).</summary>
    public const int Acked = 1;

    /// <summary>Sent, no reply before the connection ended: may or may not be stored.</summary>
    public const int Unconfirmed = 0;

    /// <summary>Sent and refused with an error: not stored.</summary>
    public const int Refused = 2;

    public long Reconnects;
    public long Pushes;
    public long PushDuplicates;
    public long PushesDroppedByServer;
    public long McpCalls;
    public long McpErrors;
    public long FailedReceives;

    /// <summary>Every id sent, with its state (<see cref="Acked"/>, <see cref="Unconfirmed"/>, <see cref="Refused"/>).</summary>
    public ConcurrentDictionary<string, int> Sent { get; } = new();

    /// <summary>Every id consumed by a receive, with how many times.</summary>
    public ConcurrentDictionary<string, int> Consumed { get; } = new();

    /// <summary>The first few anomalies, for the report.</summary>
    public ConcurrentQueue<string> Notes { get; } = new();

    public void Sending(string uid) => Sent[uid] = Unconfirmed;

    public void Settle(string uid, int state) => Sent[uid] = state;

    public void Consume(string uid) => Consumed.AddOrUpdate(uid, 1, (_, n) => n + 1);

    public void Note(string note)
    {
        if (Notes.Count < 20)
        {
            Notes.Enqueue(note);
        }
    }
}
