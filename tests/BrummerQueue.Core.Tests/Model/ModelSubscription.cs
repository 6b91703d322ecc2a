using System.Text.RegularExpressions;

namespace BrummerQueue.Core.Tests.Model;

internal sealed class ModelSubscription(string channel, int bufferSize)
{
    // A wildcard pattern as a regular expression, written independently of the engine's matcher: '*' is one token, a
    // last '>' one or more (docs/protocol.md "Wildcard subscriptions"). Null for a subscription to one channel.
    private readonly Regex? _pattern = channel.Contains('*', StringComparison.Ordinal) || channel.Contains('>', StringComparison.Ordinal)
        ? new Regex("^" + string.Join(@"\.", channel.Split('.').Select(t => t switch { "*" => "[^.]*", ">" => ".*", _ => Regex.Escape(t) })) + "$", RegexOptions.CultureInvariant)
        : null;

    public string Channel { get; } = channel;

    /// <summary>Whether a message sent to <paramref name="name"/> reaches this subscription.</summary>
    public bool Receives(string name) => _pattern?.IsMatch(name) ?? Channel == name;

    public Queue<ModelMessage> Buffer { get; private set; } = new();

    public long Dropped { get; set; }

    public bool Closed { get; set; }

    /// <summary>What the subscribe reply says: null without since_seq, else whether the replay is exact.</summary>
    public bool? Recovered { get; set; }

    public void Enqueue(ModelMessage message)
    {
        if (Buffer.Count >= bufferSize)
        {
            Buffer.Dequeue();
            Dropped++;
        }

        Buffer.Enqueue(message);
    }

    /// <summary>SPEC.md §1 "Reads never lose": a read's messages and dropped count go back; expired and overflowing ones count as dropped.</summary>
    public (int Restored, int Expired, int Dropped) PutBack(IReadOnlyList<ModelMessage> messages, long dropped, long nowMs)
    {
        if (Closed)
        {
            return (0, 0, messages.Count);
        }

        var kept = messages.Where(m => nowMs < m.ExpiresAt).ToList();
        var expired = messages.Count - kept.Count;
        var overflow = Math.Max(0, Buffer.Count + kept.Count - bufferSize);
        Buffer = new Queue<ModelMessage>(kept.Skip(overflow).Concat(Buffer));
        Dropped += dropped + expired + overflow;
        return (kept.Count - overflow, expired, overflow);
    }
}
