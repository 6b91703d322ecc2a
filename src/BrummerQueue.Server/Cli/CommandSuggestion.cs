using System.CommandLine;

namespace BrummerQueue.Server.Cli;

/// <summary>
/// The nearest command or option name to a mistyped word (<c>brummerq sned</c>: did you mean 'send'?).
/// System.CommandLine 3.0 has typo corrections (<c>ParseErrorAction.ShowTypoCorrections</c>), but they print
/// several lines per word in their own format and suggest distant names (<c>xyz</c> gets <c>mcp</c> and <c>-h</c>);
/// this keeps one line per error and suggests only a name within <see cref="MaxDistance"/> edits.
/// </summary>
internal static class CommandSuggestion
{
    /// <summary>At most this many single-character edits (insert, delete, replace, swap of neighbours) from the word typed.</summary>
    public const int MaxDistance = 2;

    /// <summary>The name of <paramref name="command"/>'s sub-commands and options nearest to <paramref name="typed"/>, or null when none is near.</summary>
    public static string? Nearest(Command command, string typed)
    {
        var names = typed.StartsWith('-')
            ? command.Options.Where(o => !o.Hidden).SelectMany(o => o.Aliases.Prepend(o.Name))
            : command.Subcommands.Where(c => !c.Hidden).SelectMany(c => c.Aliases.Prepend(c.Name));
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var name in names)
        {
            var distance = Distance(typed, name);
            if (distance < bestDistance && distance <= MaxDistance && distance < name.Length)
            {
                (best, bestDistance) = (name, distance);
            }
        }

        return best;
    }

    /// <summary>Optimal string alignment distance (Levenshtein plus the swap of two neighbouring characters), case-insensitive.</summary>
    internal static int Distance(string a, string b)
    {
        a = a.ToLowerInvariant();
        b = b.ToLowerInvariant();
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
