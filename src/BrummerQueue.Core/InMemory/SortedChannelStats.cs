using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace BrummerQueue.Core.InMemory;

/// <summary>
/// The per-channel figures of one <see cref="QueueStats"/>: an array sorted by name (ordinal), looked up by
/// binary search. Built once per stats call and never changed, so it is safe to read from any thread;
/// one array instead of a tree of nodes keeps a stats call to two allocations besides the figures.
/// </summary>
internal sealed class SortedChannelStats : IReadOnlyDictionary<string, ChannelStats>
{
    private static readonly Comparison<KeyValuePair<string, ChannelStats>> s_byName = static (a, b) => string.CompareOrdinal(a.Key, b.Key);
    private readonly KeyValuePair<string, ChannelStats>[] _entries;

    /// <summary>Takes ownership of the first <paramref name="count"/> of <paramref name="entries"/> and sorts them by name.</summary>
    public SortedChannelStats(KeyValuePair<string, ChannelStats>[] entries, int count)
    {
        if (count != entries.Length)
        {
            Array.Resize(ref entries, count);
        }

        Array.Sort(entries, s_byName);
        _entries = entries;
    }

    public int Count => _entries.Length;

    public IEnumerable<string> Keys => _entries.Select(e => e.Key);

    public IEnumerable<ChannelStats> Values => _entries.Select(e => e.Value);

    public ChannelStats this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"no channel '{key}' in these stats");

    public bool ContainsKey(string key) => IndexOf(key) >= 0;

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out ChannelStats value)
    {
        var index = IndexOf(key);
        value = index >= 0 ? _entries[index].Value : null;
        return index >= 0;
    }

    public IEnumerator<KeyValuePair<string, ChannelStats>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, ChannelStats>>)_entries).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private int IndexOf(string key)
    {
        int low = 0, high = _entries.Length - 1;
        while (low <= high)
        {
            var middle = low + ((high - low) / 2);
            var order = string.CompareOrdinal(_entries[middle].Key, key);
            if (order == 0)
            {
                return middle;
            }

            if (order < 0)
            {
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        return -1;
    }
}
