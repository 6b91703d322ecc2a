using System.Diagnostics;
using System.Text.Json;

namespace BrummerQueue.Server.Tests.Clients;

/// <summary>
/// The real TypeScript MCP clients of <c>tests/clients</c> (npm packages pinned by its package-lock.json),
/// installed once with <c>npm ci</c> into that folder's node_modules and run with the machine's Node.js.
/// Where node or npm is missing the tests skip with the reason, unless <c>BRUMMERQ_REQUIRE_ALL_TESTS=1</c>
/// (set by CI), where that fails them; a failed <c>npm ci</c> always fails them.
/// </summary>
public sealed class TypeScriptClients : IAsyncLifetime
{
    private static readonly TimeSpan s_installTimeout = TimeSpan.FromMinutes(5);

    private string? _unavailable;
    private string? _installFailure;

    /// <summary>The folder with package.json, package-lock.json and the client scripts.</summary>
    public string Folder { get; } = Path.Combine(RepositoryRoot(), "tests", "clients");

    public async ValueTask InitializeAsync()
    {
        var node = FindOnPath("node");
        var npm = FindOnPath("npm");
        if (node is null || npm is null)
        {
            _unavailable = $"{(node is null ? "node" : "npm")} is not on PATH (install Node.js 20+ and npm to run the TypeScript MCP client tests)";
            return;
        }

        var installed = Path.Combine(Folder, "node_modules", ".package-lock.json");
        var locked = Path.Combine(Folder, "package-lock.json");
        if (File.Exists(installed) && File.GetLastWriteTimeUtc(installed) >= File.GetLastWriteTimeUtc(locked))
        {
            return;
        }

        var install = await RunAsync(npm, ["ci", "--no-audit", "--no-fund"], s_installTimeout);
        if (install.ExitCode != 0)
        {
            _installFailure = $"npm ci in {Folder} exited with {install.ExitCode}:\n{install.StandardError}";
        }
    }

    /// <summary>
    /// Runs <c>node workflow.mjs</c> with <paramref name="config"/> (see the script's header) and returns the
    /// JSON line it prints. Skips or fails the test where the clients are unavailable (see the class summary).
    /// </summary>
    public Task<JsonElement> RunWorkflowAsync(object config) => RunScriptAsync("workflow.mjs", config);

    /// <summary>
    /// Runs <c>node</c> <paramref name="script"/> (a file of <c>tests/clients</c>) with <paramref name="config"/> as its JSON
    /// argument and returns the JSON line it prints last. Skips or fails the test as <see cref="RunWorkflowAsync"/> does.
    /// </summary>
    public async Task<JsonElement> RunScriptAsync(string script, object config)
    {
        if (_installFailure is not null)
        {
            Assert.Fail(_installFailure);
        }

        if (_unavailable is not null)
        {
            if (Environment.GetEnvironmentVariable("BRUMMERQ_REQUIRE_ALL_TESTS") == "1")
            {
                Assert.Fail($"{_unavailable}; BRUMMERQ_REQUIRE_ALL_TESTS=1 makes this a failure");
            }

            Assert.Skip(_unavailable);
        }

        var json = JsonSerializer.Serialize(config);
        var run = await RunAsync("node", [script, json], TimeSpan.FromSeconds(120));
        TestContext.Current.TestOutputHelper?.WriteLine($"node {script} {json}\nexit {run.ExitCode}\nstdout:\n{run.StandardOutput}\nstderr:\n{run.StandardError}");
        var line = run.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault()
            ?? throw new InvalidOperationException($"{script} printed nothing (exit {run.ExitCode}); stderr:\n{run.StandardError}");
        using var document = JsonDocument.Parse(line);
        return document.RootElement.Clone();
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private async Task<(int ExitCode, string StandardOutput, string StandardError)> RunAsync(string fileName, string[] arguments, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = Folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {fileName}");
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        try
        {
            await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(timeout, TestContext.Current.CancellationToken);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', arguments)} did not finish within {timeout}; stderr:\n{await stderr}");
        }

        return (process.ExitCode, await stdout, await stderr);
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists);

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
