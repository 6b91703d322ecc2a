using System.Diagnostics;

namespace BrummerQueue.Server.Tests.Cli;

/// <summary>
/// The README's install: <c>dotnet pack</c> makes the tool package, <c>dotnet tool install</c> installs it (here into a
/// temporary tool path, offline from the local package only) and the installed <c>brummerq</c> runs. One pack for the
/// class: it is the slow part.
/// </summary>
public sealed class ToolInstallTests
{
    private static readonly TimeSpan s_stepTimeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task PackAndInstall_TemporaryToolPath_InstalledBrummerqListsCommandsAndSettings()
    {
        var root = Directory.CreateTempSubdirectory("brummerq-tool-");
        try
        {
            var packages = Path.Combine(root.FullName, "packages");
            var tools = Path.Combine(root.FullName, "tools");
            var config = Path.Combine(root.FullName, "nuget.config");

            // No internet: the only package source is the folder the pack wrote; a private cache so that an older
            // brummerq 0.1.0 in ~/.nuget/packages is not installed instead of this build.
            await File.WriteAllTextAsync(
                config,
                $"""<?xml version="1.0" encoding="utf-8"?><configuration><packageSources><clear /><add key="local" value="{packages}" /></packageSources></configuration>""",
                TestContext.Current.CancellationToken);
            var environment = new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(root.FullName, "cache"), ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1", ["DOTNET_NOLOGO"] = "1" };

            // The build the tests already made, packed as the README does (dotnet pack src/BrummerQueue.Server -o ...).
            var pack = await RunAsync("dotnet", root.FullName, environment, "pack", Path.Combine(RepositoryRoot(), "src", "BrummerQueue.Server"), "--no-build", "-c", BuildConfiguration, "-o", packages);
            Assert.True(pack.ExitCode == 0, pack.Output);
            var install = await RunAsync("dotnet", root.FullName, environment, "tool", "install", "--tool-path", tools, "brummerq", "--configfile", config);
            Assert.True(install.ExitCode == 0, install.Output);
            var help = await RunAsync(Path.Combine(tools, "brummerq"), root.FullName, environment, "--help");
            var serveHelp = await RunAsync(Path.Combine(tools, "brummerq"), root.FullName, environment, "serve", "--help");

            Assert.Equal(0, help.ExitCode);
            foreach (var command in new[] { "serve", "mcp", "send <CHANNEL> <PAYLOAD_JSON>", "tail <CHANNEL>", "stats" })
            {
                Assert.Contains("\n  " + command + " ", help.Output, StringComparison.Ordinal);
            }

            Assert.Equal(0, serveHelp.ExitCode);
            Assert.Contains("TCP port. [default: 8080] [env: BRUMMERQ_PORT]", serveHelp.Output, StringComparison.Ordinal);
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    private static string BuildConfiguration =>
#if DEBUG
        "Debug";
#else
        "Release";
#endif

    private static async Task<(int ExitCode, string Output)> RunAsync(string fileName, string directory, Dictionary<string, string> environment, params string[] arguments)
    {
        var info = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {fileName}");
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        try
        {
            await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(s_stepTimeout, TestContext.Current.CancellationToken);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', arguments)} did not finish within {s_stepTimeout}");
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "BrummerQueue.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no BrummerQueue.slnx above {AppContext.BaseDirectory}");
    }
}
