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
}
