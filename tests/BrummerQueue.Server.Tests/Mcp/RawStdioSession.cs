using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace BrummerQueue.Server.Tests.Mcp;

/// <summary>
/// <c>brummerq mcp</c> as a process spoken to by hand: request lines go to stdin byte for byte and
/// replies are parsed with no depth limit of the SDK's (see <see cref="RawMcpSession"/> for why).
/// </summary>
internal sealed class RawStdioSession : IDisposable
{
    private static readonly JsonDocumentOptions s_deep = new() { MaxDepth = 1000 };
    private readonly Process _process;
    private readonly Task<string> _stderr;
    private readonly Dictionary<int, JsonElement> _replies = [];
    private int _nextId = 1;

    private RawStdioSession(Process process)
    {
        _process = process;
        _stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Starts <c>brummerq mcp --port</c> <paramref name="port"/> and completes the initialize handshake.</summary>
    public static async Task<RawStdioSession> StartAsync(int port)
    {
        var session = new RawStdioSession(BrummerqProcess.Start("mcp", "--port", port.ToString(CultureInfo.InvariantCulture)));
        await session.RequestAsync(0, """{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"""u8.ToArray());
        await session.WriteLineAsync("""{"jsonrpc":"2.0","method":"notifications/initialized"}"""u8.ToArray());
        return session;
    }

    /// <summary>Calls <paramref name="tool"/>; <paramref name="argumentsJson"/> is written byte for byte. Returns the JSON-RPC reply.</summary>
    public Task<JsonElement> CallAsync(string tool, byte[] argumentsJson)
    {
        var id = _nextId++;
        return RequestAsync(id, [.. Encoding.UTF8.GetBytes($$$"""{"jsonrpc":"2.0","id":{{{id}}},"method":"tools/call","params":{"name":"{{{tool}}}","arguments":"""), .. argumentsJson, .. "}}"u8]);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }

    private async Task<JsonElement> RequestAsync(int id, byte[] line)
    {
        await WriteLineAsync(line);
        while (!_replies.ContainsKey(id))
        {
            var text = await _process.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken)
                ?? throw new InvalidOperationException("stdout ended early; stderr: " + await _stderr);
            var message = JsonDocument.Parse(text, s_deep).RootElement.Clone();
            if (message.TryGetProperty("id", out var answer) && answer.ValueKind == JsonValueKind.Number)
            {
                _replies[answer.GetInt32()] = message;
            }
        }

        return _replies[id];
    }

    private async Task WriteLineAsync(byte[] line)
    {
        await _process.StandardInput.BaseStream.WriteAsync(line.Concat("\n"u8.ToArray()).ToArray(), TestContext.Current.CancellationToken);
        await _process.StandardInput.BaseStream.FlushAsync(TestContext.Current.CancellationToken);
    }
}
