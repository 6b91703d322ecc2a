using System.Collections;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;

namespace BrummerQueue.Core.InMemory;

/// <summary>
/// The per-channel figures of one <see cref="QueueStats"/>: an array sorted by name (ordinal), looked up by
/// binary search. Built once per stats call and never changed, so it is safe to read from any thread;
/// one array instead of a tree of nodes keeps a stats call to two allocations besides the figures.
/// The caller hands the entries over already sorted (it walks the channels in name order).
/// </summary>
internal sealed class SortedChannelStats : IReadOnlyDictionary<string, ChannelStats>
{
    private readonly KeyValuePair<string, ChannelStats>[] _entries;

    /// <summary>Takes ownership of the first <paramref name="count"/> of <paramref name="entries"/>, which must be sorted by name (ordinal).</summary>
    public SortedChannelStats(KeyValuePair<string, ChannelStats>[] entries, int count)
    {
        if (count != entries.Length)
        {
            Array.Resize(ref entries, count);
        }

        Debug.Assert(IsSorted(entries), "entries must be sorted by name");
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

    private static bool IsSorted(KeyValuePair<string, ChannelStats>[] entries)
    {
        for (var i = 1; i < entries.Length; i++)
        {
            if (string.CompareOrdinal(entries[i - 1].Key, entries[i].Key) >= 0)
            {
                return false;
            }
        }

        return true;
    }
}
