using System.CommandLine;
using System.CommandLine.Parsing;

namespace BrummerQueue.Server.Cli;

/// <summary>The <c>brummerq</c> command line: one sub-command per file in this folder.</summary>
internal static class BrummerCli
{
    /// <summary>Exit code of a command line that does not parse (docs/protocol.md section 5), as for a payload that is not JSON.</summary>
    public const int UsageError = ExitCodes.Usage;

    /// <summary>
    /// How long a command may take to end after SIGTERM or Ctrl-C before the process exits anyway (code 143 or 130).
    /// Longer than the host's shutdown (<c>ShutdownTimeoutSeconds</c>, 3 s by default), which bounds a graceful stop
    /// and then exits 0; the System.CommandLine default of 2 s would cut it short.
    /// </summary>
    public static readonly TimeSpan ProcessTerminationTimeout = TimeSpan.FromSeconds(10);

    public static RootCommand Create()
    {
        var root = new RootCommand("brummerq: a message queue for AI assistants and browser apps.");
        root.Add(ServeCommand.Create());
        root.Add(McpCommand.Create());
        root.Add(SendCommand.Create());
        root.Add(TailCommand.Create());
        root.Add(StatsCommand.Create());
        return root;
    }

    /// <summary>
    /// Parses and runs a command line. A usage error prints one line per error and a pointer to
    /// <c>--help</c> on <paramref name="error"/> (stderr), not the whole help: <c>brummerq mcp</c>
    /// owns stdout for JSON-RPC, and the rule holds for every command. A mistyped command or option gets the
    /// nearest name (<see cref="CommandSuggestion"/>); an unknown word where a command belongs is the only error shown.
    /// </summary>
    public static async Task<int> RunAsync(string[] args, TextWriter? output = null, TextWriter? error = null, CancellationToken cancellationToken = default)
    {
        var parse = Create().Parse(args);
        error ??= Console.Error;
        if (parse.Errors.Count > 0)
        {
            var name = parse.CommandResult.Command is RootCommand ? "brummerq" : "brummerq " + parse.CommandResult.Command.Name;
            foreach (var message in ErrorLines(parse))
            {
                await error.WriteLineAsync($"{name}: {message}");
            }

            await error.WriteLineAsync($"Run '{name} --help' for usage.");
            return UsageError;
        }

        var invocation = new InvocationConfiguration { Output = output ?? Console.Out, Error = error, ProcessTerminationTimeout = ProcessTerminationTimeout };
        return await parse.InvokeAsync(invocation, cancellationToken);
    }

    /// <summary>The parse errors, one line each, a word that was not matched followed by the nearest name when one is near.</summary>
    private static IEnumerable<string> ErrorLines(ParseResult parse)
    {
        var unmatched = parse.UnmatchedTokens;
        var messages = parse.Errors.Select(e => e.Message).Distinct(StringComparer.Ordinal);
        if (unmatched.Count > 0 && parse.CommandResult.Command is RootCommand)
        {
            // "brummerq sned c '{}'": the first unknown word is the mistake, not the missing command it stands for nor the
            // arguments that follow it (which a mistyped command cannot take).
            var first = unmatched[0];
            messages = messages.Where(m => m.Contains($"'{first}'", StringComparison.Ordinal));
        }

        // "send --tpye x c 1": the parser takes a mistyped option as the CHANNEL argument; name it first.
        foreach (var token in parse.Tokens.Where(t => t.Type == TokenType.Argument && t.Value.StartsWith("--", StringComparison.Ordinal) && !unmatched.Contains(t.Value)))
        {
            if (CommandSuggestion.Nearest(parse.CommandResult.Command, token.Value) is { } option)
            {
                yield return $"Unrecognized option '{token.Value}'; did you mean '{option}'?";
            }
        }

        foreach (var message in messages)
        {
            var word = unmatched.FirstOrDefault(t => message.Contains($"'{t}'", StringComparison.Ordinal));
            yield return word is not null && CommandSuggestion.Nearest(parse.CommandResult.Command, word) is { } nearest
                ? $"{message.TrimEnd('.')}; did you mean '{nearest}'?"
                : message;
        }
    }
}
