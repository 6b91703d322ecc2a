using System.CommandLine;

namespace BrummerQueue.Server.Cli;

/// <summary>The <c>brummerq</c> command line: one sub-command per file in this folder.</summary>
internal static class BrummerCli
{
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
    /// Parses and runs a command line. A usage error prints its message and help to <paramref name="error"/>
    /// (stderr): <c>brummerq mcp</c> owns stdout for JSON-RPC, and the rule holds for every command.
    /// </summary>
    public static Task<int> RunAsync(string[] args, TextWriter? output = null, TextWriter? error = null, CancellationToken cancellationToken = default)
    {
        var parse = Create().Parse(args);
        error ??= Console.Error;
        var invocation = new InvocationConfiguration { Output = parse.Errors.Count > 0 ? error : output ?? Console.Out, Error = error };
        return parse.InvokeAsync(invocation, cancellationToken);
    }
}
