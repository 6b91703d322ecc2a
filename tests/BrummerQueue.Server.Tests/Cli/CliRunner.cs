using System.CommandLine;
using BrummerQueue.Server.Cli;

namespace BrummerQueue.Server.Tests.Cli;

/// <summary>Runs a <c>brummerq</c> command in-process with captured output.</summary>
public static class CliRunner
{
    public static async Task<(int ExitCode, LineCapture Output, LineCapture Error)> RunAsync(params string[] args)
    {
        var output = new LineCapture();
        var error = new LineCapture();
        var exitCode = await StartAsync(output, error, TestContext.Current.CancellationToken, args);
        return (exitCode, output, error);
    }

    public static Task<int> StartAsync(LineCapture output, LineCapture error, CancellationToken cancellationToken, params string[] args) =>
        BrummerCli.Create().Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error, ProcessTerminationTimeout = null }, cancellationToken);
}
