using System.Buffers;
using System.Text.Json;
using BrummerQueue.Server.Protocol;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace BrummerQueue.Server.Mcp;

/// <summary>
/// The SDK's stream transport (stdio) with one change: messages are written with a writer that allows
/// <see cref="PayloadEnvelope.AnyLimitDepth"/> levels (a tool result holding a payload at the largest depth limit, from
/// the payload rule in Core) instead of the serializer's 64, so that such a result can be sent (the SDK's own send throws
/// for it, and the client would wait for an answer that never comes). Reading is the SDK's.
/// </summary>
/// <remarks>Thread-safety: every write, the SDK's own error replies included, goes through <see cref="SendMessageAsync"/> under <see cref="_sendLock"/>.</remarks>
internal sealed class PayloadDepthStreamTransport : StreamServerTransport
{
    private static readonly JsonWriterOptions s_writerOptions = new() { MaxDepth = PayloadEnvelope.AnyLimitDepth, SkipValidation = true };
    private readonly Stream _output;
    private readonly SemaphoreSlim _sendLock = new(1, 1);

    public PayloadDepthStreamTransport(Stream input, Stream output, string? serverName, ILoggerFactory loggerFactory)
        : base(input, output, serverName, loggerFactory)
    {
        _output = output;
    }

    public override async Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default)
    {
        if (!IsConnected)
        {
            return;
        }

        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, s_writerOptions))
        {
            JsonSerializer.Serialize(writer, message, McpJsonUtilities.DefaultOptions.GetTypeInfo<JsonRpcMessage>());
        }

        buffer.Write("\n"u8);
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            await _output.WriteAsync(buffer.WrittenMemory, cancellationToken);
            await _output.FlushAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new IOException("Failed to send message.", e);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _sendLock.Dispose();
    }
}
