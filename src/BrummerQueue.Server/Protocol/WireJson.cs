using System.Text.Encodings.Web;
using System.Text.Json;

namespace BrummerQueue.Server.Protocol;

/// <summary>
/// Writer options of every JSON brummerq sends (MCP, WebSocket, HTTP, CLI): text such as
/// <c>"Zoë"</c> or <c>"日本"</c> is written as UTF-8, not as <c>\u</c> escapes, so models and people
/// read it as sent. Safe because the output is always served as JSON, never embedded in HTML.
/// </summary>
internal static class WireJson
{
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
