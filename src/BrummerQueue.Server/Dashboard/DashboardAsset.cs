using System.Security.Cryptography;

namespace BrummerQueue.Server.Dashboard;

/// <summary>
/// One static file of the dashboard or the browser client, embedded in the assembly
/// (<c>Dashboard/Assets/*</c>, logical name <c>brummerq.assets.{file}</c>) and read once.
/// Immutable after construction, so shared by every request.
/// </summary>
internal sealed class DashboardAsset
{
    private DashboardAsset(string fileName, byte[] content, string contentType)
    {
        FileName = fileName;
        Content = content;
        ContentType = contentType;
        ETag = $"\"{Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 12))}\"";
    }

    /// <summary>File name under <c>Dashboard/Assets</c>.</summary>
    public string FileName { get; }

    /// <summary>The bytes served.</summary>
    public byte[] Content { get; }

    /// <summary>The <c>Content-Type</c> header value.</summary>
    public string ContentType { get; }

    /// <summary>A strong entity tag of the content.</summary>
    public string ETag { get; }

    /// <summary>Loads an embedded asset; throws when the build did not embed it (a packaging bug).</summary>
    public static DashboardAsset Load(string fileName)
    {
        var assembly = typeof(DashboardAsset).Assembly;
        using var stream = assembly.GetManifestResourceStream($"brummerq.assets.{fileName}")
            ?? throw new InvalidOperationException($"The embedded asset {fileName} is missing from {assembly.GetName().Name}.");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return new DashboardAsset(fileName, buffer.ToArray(), ContentTypeOf(fileName));
    }

    private static string ContentTypeOf(string fileName) => Path.GetExtension(fileName) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        _ => "application/octet-stream",
    };
}
