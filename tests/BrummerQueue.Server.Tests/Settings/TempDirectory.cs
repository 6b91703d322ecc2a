namespace BrummerQueue.Server.Tests.Settings;

/// <summary>A fresh temporary directory, deleted on disposal, to run brummerq in (where it looks for appsettings.json).</summary>
internal sealed class TempDirectory : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("brummerq-settings-");

    public string Path => _directory.FullName;

    public string AppsettingsPath => System.IO.Path.Combine(Path, "appsettings.json");

    public Task WriteAppsettingsAsync(string json) => File.WriteAllTextAsync(AppsettingsPath, json, TestContext.Current.CancellationToken);

    public void Dispose() => _directory.Delete(recursive: true);
}
