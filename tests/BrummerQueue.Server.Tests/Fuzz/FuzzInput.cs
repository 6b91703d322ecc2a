using System.Text;

namespace BrummerQueue.Server.Tests.Fuzz;

/// <summary>
/// One generated input. <see cref="Target"/> is the tool name (MCP) or method and path with query
/// (HTTP, e.g. <c>POST /api/channels/x/messages?limit=3</c>); <see cref="Body"/> is the frame, the
/// tool arguments as a JSON object, or the request body. A WebSocket frame is sent in
/// <see cref="Fragments"/> pieces, as a binary message when <see cref="Binary"/>.
/// </summary>
public sealed record FuzzInput(FuzzFace Face, string Target, byte[] Body, int Fragments = 1, bool Binary = false)
{
    /// <summary>The body as text, every byte that is not printable ASCII written as <c>\xNN</c>, so a failure names the exact bytes.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        var shown = Body.AsSpan(0, Math.Min(Body.Length, 600));
        foreach (var b in shown)
        {
            text.Append(b is >= 0x20 and < 0x7f && b != '\\' ? (char)b : $"\\x{b:x2}");
        }

        var more = Body.Length > shown.Length ? $"… ({Body.Length} bytes)" : string.Empty;
        return Face switch
        {
            FuzzFace.WebSocket => $"ws {(Binary ? "binary" : "text")} frame in {Fragments} fragment(s): {text}{more}",
            FuzzFace.Mcp => $"mcp {Target} {text}{more}",
            _ => $"http {Target} body: {text}{more}",
        };
    }
}
