using System.Collections;
using Microsoft.Extensions.Configuration.Json;

namespace BrummerQueue.Server.Settings;

/// <summary>
/// The one settings file brummerq reads: <c>appsettings.json</c> in the working directory of the process, in every
/// launch mode (<c>serve</c>, <c>mcp</c>, the client commands, <c>dotnet brummerq.dll</c>, the installed tool, and
/// <c>dotnet run</c>, which keeps the caller's directory because the project turns off the Web SDK's
/// <c>RunWorkingDirectory</c>). Not the content root (which <c>DOTNET_CONTENTROOT</c> may move) and no
/// <c>appsettings.{Environment}.json</c>: one file, named at start (<see cref="Describe"/>), so a user always knows
/// which one counted. Immutable; the file is read when a configuration built with it loads.
/// </summary>
internal sealed class SettingsFile
{
    /// <summary>The file name, <c>appsettings.json</c>.</summary>
    public const string FileName = "appsettings.json";

    private SettingsFile(string directory)
    {
        Directory = directory;
        FullPath = System.IO.Path.Combine(directory, FileName);
    }

    /// <summary>The directory looked in (absolute).</summary>
    public string Directory { get; }

    /// <summary>The absolute path of the file, whether or not it exists.</summary>
    public string FullPath { get; }

    /// <summary>Whether the file exists now.</summary>
    public bool Exists => File.Exists(FullPath);

    /// <summary>The settings file of the process's working directory.</summary>
    public static SettingsFile InWorkingDirectory() => new(System.IO.Directory.GetCurrentDirectory());

    /// <summary>The settings file of <paramref name="directory"/> (tests).</summary>
    public static SettingsFile In(string directory) => new(System.IO.Path.GetFullPath(directory));

    /// <summary>
    /// Replaces the <c>appsettings*.json</c> sources a host builder adds from its content root by this file, at the
    /// same place in the order (after the host's defaults, before environment variables and flags). A file that is
    /// missing is skipped; one that is not JSON fails the build with an error naming its path.
    /// </summary>
    public void ReplaceHostDefaults(IConfigurationBuilder builder)
    {
        var index = builder.Sources.Count;
        for (var i = builder.Sources.Count - 1; i >= 0; i--)
        {
            if (builder.Sources[i] is JsonConfigurationSource)
            {
                builder.Sources.RemoveAt(i);
                index = i;
            }
        }

        var source = new JsonConfigurationSource { Path = FullPath, Optional = true, ReloadOnChange = false };
        source.ResolveFileProvider();
        builder.Sources.Insert(Math.Min(index, builder.Sources.Count), source);
    }

    /// <summary>
    /// The configuration the host would read, for code that runs without a host (<c>brummerq mcp</c>'s probe, the
    /// client commands): this file, then unprefixed environment variables (<c>Brummerq__Port</c>), then
    /// <c>BRUMMERQ_*</c> variables from <paramref name="environment"/>, then <paramref name="flags"/>, in the host's order.
    /// </summary>
    public IConfigurationRoot BuildConfiguration(IDictionary environment, IDictionary<string, string?> flags) =>
        new ConfigurationBuilder()
            .AddJsonFile(FullPath, optional: true, reloadOnChange: false)
            .AddEnvironmentVariables()
            .Add(new BrummerEnvironmentSource(environment))
            .AddInMemoryCollection(flags)
            .Build();

    /// <summary>
    /// What a start-up line says about the file: its path (<c>/dir/appsettings.json</c>), or
    /// <c>no appsettings.json in /dir (flags, BRUMMERQ_* variables and defaults)</c>.
    /// </summary>
    public string Describe() => Exists
        ? FullPath
        : $"no {FileName} in {Directory} (flags, {SettingsCatalog.EnvironmentPrefix}* variables and defaults)";
}
